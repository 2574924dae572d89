package dev.tandem.api;

/**
 * This node's role changed. {@code previous} is null for the first call, made when the listener is
 * registered, with the role at that moment.
 */
public record NodeRoleChanged(NodeRole previous, NodeRole next, long term, String reason) {}
