package dev.tandem.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * One transaction of one namespace. Reads see the transaction's own writes. {@link #commit()} gives
 * the transaction an LSN when it wrote anything; {@link #close()} rolls back whatever was not committed.
 */
public final class StoreTx implements AutoCloseable {
    private final Store store;
    private final String ns;
    private final Connection c;
    private final JsonArray ops = new JsonArray();
    private boolean done;
    private long committedTerm;

    StoreTx(Store store, String ns, Connection c) {
        this.store = store;
        this.ns = ns;
        this.c = c;
    }

    public String get(String coll, String key) {
        try (PreparedStatement ps = c.prepareStatement("SELECT v FROM docs WHERE ns = ? AND coll = ? AND k = ?")) {
            ps.setString(1, ns);
            ps.setString(2, coll);
            ps.setString(3, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw fail("read", e);
        }
    }

    /** Stores {@code json} (a JSON text) under (collection, key). */
    public void put(String coll, String key, String json) {
        try (PreparedStatement ps = c.prepareStatement("MERGE INTO docs KEY(ns, coll, k) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, ns);
            ps.setString(2, coll);
            ps.setString(3, key);
            ps.setString(4, json);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw fail("write", e);
        }
        ops.add(new JsonObject().put("op", "put").put("ns", ns).put("c", coll).put("k", key).put("v", json));
    }

    public boolean delete(String coll, String key) {
        int n;
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM docs WHERE ns = ? AND coll = ? AND k = ?")) {
            ps.setString(1, ns);
            ps.setString(2, coll);
            ps.setString(3, key);
            n = ps.executeUpdate();
        } catch (SQLException e) {
            throw fail("delete", e);
        }
        if (n > 0) {
            ops.add(new JsonObject().put("op", "del").put("ns", ns).put("c", coll).put("k", key));
        }
        return n > 0;
    }

    /** Up to {@code limit} [key, json] pairs whose key starts with {@code prefix}, ordered by key, as a JSON text. */
    public String scan(String coll, String prefix, int limit) {
        JsonArray out = new JsonArray();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT k, v FROM docs WHERE ns = ? AND coll = ? AND k LIKE ? ESCAPE '\\' ORDER BY k LIMIT ?")) {
            ps.setString(1, ns);
            ps.setString(2, coll);
            ps.setString(3, likePrefix(prefix));
            ps.setInt(4, Math.max(0, Math.min(limit, 10_000)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new JsonArray().add(rs.getString(1)).add(rs.getString(2)));
                }
            }
        } catch (SQLException e) {
            throw fail("scan", e);
        }
        return out.encode();
    }

    public long count(String coll, String prefix) {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM docs WHERE ns = ? AND coll = ? AND k LIKE ? ESCAPE '\\'")) {
            ps.setString(1, ns);
            ps.setString(2, coll);
            ps.setString(3, likePrefix(prefix));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw fail("count", e);
        }
    }

    private static String likePrefix(String prefix) {
        return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    }

    /** Commits; returns the LSN of this transaction, or 0 when it wrote nothing. */
    public long commit() {
        ensureOpen();
        done = true;
        try {
            if (ops.isEmpty()) {
                c.commit();
                return 0;
            }
            Change change = store.commitWithLsn(c, ops.encode());
            committedTerm = change.term();
            return change.lsn();
        } catch (SQLException e) {
            throw fail("commit", e);
        } finally {
            release();
        }
    }

    /** The term the committed change carries (the primary's term when it committed), 0 before a commit that wrote. */
    public long committedTerm() {
        return committedTerm;
    }

    public void rollback() {
        if (done) return;
        done = true;
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is closed below; H2 discards the uncommitted work
        } finally {
            release();
        }
    }

    public boolean hasWrites() {
        return !ops.isEmpty();
    }

    private void ensureOpen() {
        if (done) throw new IllegalStateException("the transaction has already ended");
    }

    private void release() {
        try {
            c.close();
        } catch (SQLException ignored) {
            // returning a connection to the pool does not fail in a way we can act on
        }
    }

    private StoreException fail(String what, SQLException e) {
        String m = String.valueOf(store.check(e).getMessage());
        int nl = m.indexOf('\n');
        return new StoreException("store " + what + " failed: " + (nl < 0 ? m : m.substring(0, nl)), e);
    }

    @Override
    public void close() {
        rollback();
    }
}
