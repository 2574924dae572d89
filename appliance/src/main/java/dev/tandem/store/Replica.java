package dev.tandem.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What replication needs from the store beyond ordinary transactions: apply a batch of the primary's
 * changes in one H2 commit (idempotently, in LSN order), answer "which term wrote LSN n", export and
 * install snapshots, keep divergent changes, and bound the change log.
 */
public final class Replica {
    private final Store store;

    Replica(Store store) {
        this.store = store;
    }

    /**
     * Applies the changes that extend this store's log, in one transaction: a change at or below the
     * last LSN is skipped (already applied), a gap stops the batch. Returns the last LSN after it.
     */
    public long apply(List<Change> batch) {
        return store.withCommitLock(c -> {
            long last = store.lastLsn();
            long lastTerm = store.lastChangeTerm();
            List<Change> applied = new ArrayList<>();
            boolean system = false;
            try (PreparedStatement put = c.prepareStatement("MERGE INTO docs KEY(ns, coll, k) VALUES (?, ?, ?, ?)");
                 PreparedStatement del = c.prepareStatement("DELETE FROM docs WHERE ns = ? AND coll = ? AND k = ?");
                 PreparedStatement log = c.prepareStatement("INSERT INTO changelog(lsn, term, ts, ops) VALUES (?, ?, ?, ?)")) {
                for (Change ch : batch) {
                    if (ch.lsn() <= last) continue;
                    if (ch.lsn() != last + 1) break;
                    JsonArray ops = new JsonArray(ch.ops());
                    for (int i = 0; i < ops.size(); i++) {
                        JsonObject op = ops.getJsonObject(i);
                        system |= Store.SYSTEM_NS.equals(op.getString("ns"));
                        PreparedStatement ps = op.getString("op").equals("put") ? put : del;
                        ps.setString(1, op.getString("ns"));
                        ps.setString(2, op.getString("c"));
                        ps.setString(3, op.getString("k"));
                        if (ps == put) ps.setString(4, op.getString("v"));
                        ps.executeUpdate();
                    }
                    log.setLong(1, ch.lsn());
                    log.setLong(2, ch.term());
                    log.setLong(3, ch.timestamp());
                    log.setString(4, ch.ops());
                    log.executeUpdate();
                    last = ch.lsn();
                    lastTerm = ch.term();
                    applied.add(ch);
                }
            }
            if (!applied.isEmpty()) {
                c.commit();
                store.advance(last, lastTerm);
                store.recentAppended(applied);
                if (system) store.systemApplied();
            }
            return last;
        });
    }

    /** The term that wrote {@code lsn} here, or -1 when this store has no such change (or no longer has it). */
    public long termAt(long lsn) {
        if (lsn == 0) return 0;
        if (lsn == store.baseLsn()) return store.baseTerm();
        return store.query("SELECT term FROM changelog WHERE lsn = ?", lsn);
    }

    /** For each term in this store's log: [term, first LSN, last LSN], oldest first; the base point counts as a term's last LSN. */
    public List<long[]> termRanges() {
        List<long[]> out = new ArrayList<>();
        if (store.baseLsn() > 0) out.add(new long[] {store.baseTerm(), store.baseLsn(), store.baseLsn()});
        store.read(c -> {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT term, MIN(lsn), MAX(lsn) FROM changelog GROUP BY term ORDER BY term")) {
                while (rs.next()) out.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)});
            }
            return null;
        });
        return out;
    }

    /** Every document as of one LSN, read in one snapshot transaction while writes go on. */
    public Snapshot snapshot() {
        return store.read(c -> {
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                long lsn, term;
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT lsn, term FROM changelog ORDER BY lsn DESC LIMIT 1")) {
                    if (rs.next()) {
                        lsn = rs.getLong(1);
                        term = rs.getLong(2);
                    } else {
                        lsn = store.baseLsn();
                        term = store.baseTerm();
                    }
                }
                List<Snapshot.Doc> docs = new ArrayList<>();
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT ns, coll, k, v FROM docs ORDER BY ns, coll, k")) {
                    while (rs.next()) docs.add(new Snapshot.Doc(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
                c.commit();
                return new Snapshot(lsn, term, docs);
            } finally {
                c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            }
        });
    }

    /**
     * Replaces every document and the change log with {@code snap}, in one transaction. Only the documents that
     * differ are written: a node that resyncs (a restarted former primary, say) holds nearly the same documents,
     * and rewriting tens of thousands of rows cost seconds, tens of seconds on a loaded machine.
     */
    public void install(Snapshot snap) {
        store.withCommitLock(c -> {
            record Key(String ns, String coll, String k) {}
            Map<Key, String> here = new HashMap<>();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT ns, coll, k, v FROM docs")) {
                while (rs.next()) here.put(new Key(rs.getString(1), rs.getString(2), rs.getString(3)), rs.getString(4));
            }
            try (Statement st = c.createStatement()) {
                st.execute("DELETE FROM changelog");
            }
            try (PreparedStatement put = c.prepareStatement("MERGE INTO docs KEY(ns, coll, k) VALUES (?, ?, ?, ?)");
                 PreparedStatement del = c.prepareStatement("DELETE FROM docs WHERE ns = ? AND coll = ? AND k = ?")) {
                int n = 0;
                for (Snapshot.Doc d : snap.docs()) {
                    String mine = here.remove(new Key(d.ns(), d.coll(), d.key()));
                    if (d.value().equals(mine)) continue;
                    put.setString(1, d.ns());
                    put.setString(2, d.coll());
                    put.setString(3, d.key());
                    put.setString(4, d.value());
                    put.addBatch();
                    if (++n % 1000 == 0) put.executeBatch();
                }
                put.executeBatch();
                for (Key k : here.keySet()) { // what the snapshot does not have
                    del.setString(1, k.ns());
                    del.setString(2, k.coll());
                    del.setString(3, k.k());
                    del.addBatch();
                    if (++n % 1000 == 0) del.executeBatch();
                }
                del.executeBatch();
            }
            store.putBase(c, snap.lsn(), snap.term());
            c.commit();
            store.advance(snap.lsn(), snap.term());
            store.recentCleared();
            store.systemApplied();
            return null;
        });
    }

    /**
     * Moves this store's changes after {@code lsn} into the divergent table (G3: kept, reported, never
     * applied) and returns how many newly kept (a change already kept is not kept twice); the documents are then
     * replaced by the primary's snapshot.
     */
    public int preserveDivergentAfter(long lsn, String reason) {
        return store.withCommitLock(c -> {
            long now = System.currentTimeMillis();
            int n;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO divergent(lsn, term, ts, ops, preserved_at, reason)"
                    + " SELECT lsn, term, ts, ops, ?, ? FROM changelog l WHERE lsn > ?"
                    // preserved once: a second divergence answer for the same changes adds nothing
                    + " AND NOT EXISTS (SELECT 1 FROM divergent d WHERE d.lsn = l.lsn AND d.term = l.term)")) {
                ps.setLong(1, now);
                ps.setString(2, reason);
                ps.setLong(3, lsn);
                n = ps.executeUpdate();
            }
            c.commit();
            return n;
        });
    }

    /** How many divergent changes this store keeps (the group view and the console's banner). */
    public long divergentCount() {
        return store.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM divergent"); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /** The preserved divergent changes, newest first (for the API and the console). */
    public JsonArray divergent(int limit) {
        JsonArray out = new JsonArray();
        store.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT lsn, term, ts, ops, preserved_at, reason FROM divergent"
                    + " ORDER BY preserved_at DESC, lsn LIMIT ?")) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new JsonObject().put("lsn", rs.getLong(1)).put("term", rs.getLong(2)).put("time", rs.getLong(3))
                                .put("ops", new JsonArray(rs.getString(4))).put("preserved_at", rs.getLong(5)).put("reason", rs.getString(6)));
                    }
                }
            }
            return null;
        });
        return out;
    }

    /** Drops change-log rows so that at most {@code keep} remain; the newest dropped one becomes the base point. */
    public void truncate(long keep) {
        long cut = store.lastLsn() - keep;
        if (cut <= store.baseLsn()) return;
        store.withCommitLock(c -> {
            long term;
            try (PreparedStatement ps = c.prepareStatement("SELECT term FROM changelog WHERE lsn = ?")) {
                ps.setLong(1, cut);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) return null;
                    term = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM changelog WHERE lsn <= ?")) {
                ps.setLong(1, cut);
                ps.executeUpdate();
            }
            store.putBase(c, cut, term);
            c.commit();
            return null;
        });
    }

    /** The oldest LSN the change log can still stream from (changes after it are all there). */
    public long streamableAfter() {
        return store.baseLsn();
    }
}
