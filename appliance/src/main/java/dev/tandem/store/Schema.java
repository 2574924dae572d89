package dev.tandem.store;

import java.util.List;

/** Versioned schema migrations, applied in order, each in its own transaction. Append only: never edit a released step. */
final class Schema {
    private Schema() {}

    static final List<String[]> MIGRATIONS = List.<String[]>of(
            // 1: documents, change log, node metadata (store id, term)
            new String[] {
                "CREATE TABLE meta(k VARCHAR(64) PRIMARY KEY, v VARCHAR(4096) NOT NULL)",
                "CREATE TABLE docs(ns VARCHAR(64) NOT NULL, coll VARCHAR(255) NOT NULL, k VARCHAR(1024) NOT NULL,"
                        + " v VARCHAR(1000000) NOT NULL, PRIMARY KEY(ns, coll, k))",
                "CREATE TABLE changelog(lsn BIGINT PRIMARY KEY, term BIGINT NOT NULL, ts BIGINT NOT NULL,"
                        + " ops CHARACTER LARGE OBJECT NOT NULL)",
            },
            // 2: changes a former primary had and the group did not (G3), kept, never applied
            new String[] {
                "CREATE TABLE divergent(lsn BIGINT NOT NULL, term BIGINT NOT NULL, ts BIGINT NOT NULL,"
                        + " ops CHARACTER LARGE OBJECT NOT NULL, preserved_at BIGINT NOT NULL, reason VARCHAR(1000) NOT NULL,"
                        + " PRIMARY KEY(preserved_at, lsn))",
            },
            // 3: the change log's operations inline (CHARACTER VARYING, up to 10^9 characters) instead of a CLOB:
            // a CLOB costs H2 a LOB id, three LOB maps, a temporary copy and a cleanup per commit, and a
            // second lookup per read; the log is written on every commit and read to ship every change
            new String[] {
                "ALTER TABLE changelog ALTER COLUMN ops SET DATA TYPE CHARACTER VARYING",
            });

    static int latest() {
        return MIGRATIONS.size();
    }
}
