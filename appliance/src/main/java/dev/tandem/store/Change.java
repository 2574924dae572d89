package dev.tandem.store;

/**
 * One committed transaction as it travels to the secondary: its LSN, the term it was written in,
 * the commit time (epoch ms) and its operations as a JSON array of
 * {@code {"op":"put"|"del","ns":..,"c":..,"k":..,"v":"<json text>"}}.
 */
public record Change(long lsn, long term, long timestamp, String ops) {}
