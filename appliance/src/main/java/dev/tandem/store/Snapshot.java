package dev.tandem.store;

import java.util.List;

/** A consistent copy of every document as of {@code lsn} (written in {@code term}): what a secondary installs when the change log no longer reaches back far enough. */
public record Snapshot(long lsn, long term, List<Doc> docs) {
    public record Doc(String ns, String coll, String key, String value) {}
}
