package dev.tandem.store;

import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's H2 database: workflow documents by (namespace, collection, key), and the change log.
 * Every transaction that writes gets the next LSN, and its operations go into the change log in the
 * same H2 transaction, so the log and the documents can never disagree, even after kill -9.
 */
public final class Store implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Store.class);
    static final String FILE_NAME = StoreFile.FILE_NAME;

    private final HikariDataSource pool;
    private final Path file;
    private final String storeId;
    /** Held from LSN assignment to commit, so LSN order is commit order. */
    private final ReentrantLock commitLock = new ReentrantLock();
    private volatile long lastLsn;
    /** The term of the last committed change (the data's recency, with {@link #lastLsn}). */
    private volatile long lastChangeTerm;
    /** The term new changes are written in: the term in which this node is primary. */
    private volatile long writeTerm;
    /** Whether this node may commit writes now (it is primary and not handing over). */
    private volatile java.util.function.BooleanSupplier writeGate = () -> true;
    private final List<LongConsumer> commitListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> systemListeners = new CopyOnWriteArrayList<>();
    /** Where the change log starts: changes up to baseLsn (written in baseTerm) came by snapshot or were truncated. */
    private volatile long baseLsn, baseTerm;
    private final Replica replica;
    /** Set with replication.fsync: commits are fsynced before they are acknowledged. */
    private volatile Flusher flusher;
    /** The newest committed changes, for shipping without reading the log back (see {@link #changesToShip}). */
    private final RecentChanges recent = new RecentChanges(8192, 16L << 20);
    /** Told once when H2 can no longer use the database (see {@link #check}). */
    private final List<java.util.function.Consumer<String>> failureListeners = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();

    private Store(HikariDataSource pool, Path file, String storeId) {
        this.pool = pool;
        this.file = file;
        this.storeId = storeId;
        String base = meta("base");
        if (base != null) {
            String[] b = base.split(" ");
            this.baseLsn = Long.parseLong(b[0]);
            this.baseTerm = Long.parseLong(b[1]);
        }
        long maxLsn = queryLong("SELECT COALESCE(MAX(lsn), 0) FROM changelog");
        this.lastLsn = Math.max(maxLsn, baseLsn);
        this.lastChangeTerm = maxLsn > baseLsn
                ? queryLong("SELECT term FROM changelog WHERE lsn = (SELECT MAX(lsn) FROM changelog)") : baseTerm;
        this.writeTerm = lastChangeTerm;
        this.replica = new Replica(this);
    }

    /**
     * Opens (or creates) the database in {@code dataDir}. Refuses, without changing a byte of it, a file
     * that is not an H2 database, an H2 database that is not tandem's, one of a newer schema, or one
     * that H2 can only open by starting it afresh (H2 quietly does that with wrecked files): see {@link StoreFile}.
     */
    public static Store open(Path dataDir) {
        StoreFile.Opened o = StoreFile.open(dataDir);
        try {
            return new Store(o.pool(), o.file(), o.storeId());
        } catch (RuntimeException e) {
            StoreFile.shutdown(o.pool());
            throw e;
        }
    }

    public String storeId() {
        return storeId;
    }

    public long lastLsn() {
        return lastLsn;
    }

    /** replication.fsync: from now on {@link #durable} waits for an fsync of the database file. */
    public void enableFsync() {
        try {
            flusher = new Flusher(file, () -> lastLsn);
        } catch (IOException e) {
            throw new StoreException("cannot open " + file + " for fsync: " + e.getMessage(), e);
        }
    }

    /** Completes when the commit of {@code lsn} is on disk as configured: at once without fsync, else after an fsync (group commit). */
    public java.util.concurrent.CompletableFuture<Void> durable(long lsn) {
        Flusher f = flusher;
        return f == null ? java.util.concurrent.CompletableFuture.completedFuture(null) : f.flush(lsn);
    }

    /** fsync now when configured (the secondary calls this before acknowledging applied changes). */
    public void syncIfConfigured() {
        Flusher f = flusher;
        if (f == null) return;
        try {
            f.flushNow();
        } catch (IOException e) {
            throw new StoreException("fsync of " + file + " failed: " + e.getMessage(), e);
        }
    }

    /** Replication's access: apply batches, snapshots, divergence, log retention. */
    public Replica replica() {
        return replica;
    }

    long baseLsn() {
        return baseLsn;
    }

    long baseTerm() {
        return baseTerm;
    }

    void putBase(Connection c, long lsn, long term) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("MERGE INTO meta KEY(k) VALUES ('base', ?)")) {
            ps.setString(1, lsn + " " + term);
            ps.executeUpdate();
        }
        baseLsn = lsn;
        baseTerm = term;
    }

    /** After replicated changes or a snapshot were committed under the commit lock. */
    void advance(long lsn, long term) {
        lastLsn = lsn;
        lastChangeTerm = term;
        if (writeTerm < term) writeTerm = term;
    }

    /** The namespace of the group's own records (users, tokens, deployed workflows); no workflow can have it. */
    public static final String SYSTEM_NS = "_system";

    /**
     * Called after replicated changes touching {@link #SYSTEM_NS} were applied, or a snapshot installed
     * (under the commit lock: the listener must only hand work off, e.g. schedule a reconcile).
     */
    public void onSystemApplied(Runnable listener) {
        systemListeners.add(listener);
    }

    void systemApplied() {
        for (Runnable l : systemListeners) l.run();
    }

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs {@code work} holding the commit lock (no local commit interleaves); rolls back whatever it did not commit. */
    <T> T withCommitLock(SqlWork<T> work) {
        commitLock.lock();
        try {
            return read(work);
        } finally {
            commitLock.unlock();
        }
    }

    /** Runs {@code work} on a pooled connection; rolls back whatever it did not commit. */
    <T> T read(SqlWork<T> work) {
        try (Connection c = pool.getConnection()) {
            try {
                return work.run(c);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new StoreException("store: " + StoreFile.firstLine(String.valueOf(check(e).getMessage())), e);
        }
    }

    /**
     * {@code listener} is told, once, when H2 can no longer use this database: it could not write the file (a full
     * disk, an I/O error) and closed it. Nothing after that can be read or committed until the node starts again.
     */
    public void onFailure(java.util.function.Consumer<String> listener) {
        failureListeners.add(listener);
    }

    /** Whether the database failed (see {@link #onFailure}). */
    public boolean failed() {
        return failed.get();
    }

    /** Looks at an error from H2: if it means the database is gone, tells the failure listeners (once). Returns it. */
    SQLException check(SQLException e) {
        if (fatal(e) && failed.compareAndSet(false, true)) {
            String why = "H2 cannot use " + file + " any more (" + StoreFile.firstLine(String.valueOf(e.getMessage())) + "); "
                    + usableSpace() + " on its filesystem";
            log.error("store failed: {}", why);
            for (var l : failureListeners) l.accept(why);
        }
        return e;
    }

    static boolean fatal(SQLException e) {
        int code = e.getErrorCode();
        return code == org.h2.api.ErrorCode.DATABASE_IS_CLOSED || code == org.h2.api.ErrorCode.IO_EXCEPTION_1
                || code == org.h2.api.ErrorCode.IO_EXCEPTION_2 || code == org.h2.api.ErrorCode.FILE_CORRUPTED_1
                || String.valueOf(e.getMessage()).contains("MVStoreException");
    }

    private String usableSpace() {
        try {
            return java.nio.file.Files.getFileStore(file.toAbsolutePath().getParent()).getUsableSpace() / (1024 * 1024) + " MiB free";
        } catch (java.io.IOException | RuntimeException ex) {
            return "free space unknown (" + ex.getMessage() + ")";
        }
    }

    /** A single long from {@code sql} with one long parameter, or -1 when there is no row. */
    long query(String sql, long param) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, param);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : -1L;
                }
            }
        });
    }

    public long lastChangeTerm() {
        return lastChangeTerm;
    }

    public long writeTerm() {
        return writeTerm;
    }

    /** Called when this node becomes primary of {@code term}: its changes carry that term from now on. */
    public void setWriteTerm(long term) {
        commitLock.lock();
        try {
            if (term < writeTerm) throw new IllegalArgumentException("term " + term + " is lower than the write term " + writeTerm);
            writeTerm = term;
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Returns once every commit that is past the write gate has finished: the gate is checked under the commit
     * lock, so after the gate closed, taking the lock once is a barrier (and {@link #lastLsn()} stays as it is).
     */
    public void awaitCommitsInFlight() {
        commitLock.lock();
        commitLock.unlock();
    }

    /** Commits are refused (with {@link dev.tandem.core.WriteRefused}) while {@code gate} says no. */
    public void setWriteGate(java.util.function.BooleanSupplier gate) {
        this.writeGate = gate;
    }

    /** Called with each new LSN after its commit (on the committing thread). */
    public void onCommit(LongConsumer listener) {
        commitListeners.add(listener);
    }

    /** A transaction in namespace {@code ns} (a workflow's name, or "_system"). Close it to release the connection. */
    public StoreTx begin(String ns) {
        try {
            return new StoreTx(this, ns, pool.getConnection());
        } catch (SQLException e) {
            throw new StoreException("cannot start a transaction: " + StoreFile.firstLine(String.valueOf(check(e).getMessage())), e);
        }
    }

    /** Commits {@code c} with the next LSN and its change log row; returns that change. */
    Change commitWithLsn(Connection c, String ops) throws SQLException {
        long lsn;
        Change change;
        var trace = new dev.tandem.metrics.WriteTrace.Commit(); // recorded only when a JFR recording enables it
        long started = dev.tandem.metrics.WriteTrace.now(), committed;
        commitLock.lock();
        try {
            if (!writeGate.getAsBoolean()) {
                c.rollback();
                throw new dev.tandem.core.WriteRefused(dev.tandem.core.WriteRefused.Reason.NOT_PRIMARY,
                        "this node is not the primary any more; the write was not committed");
            }
            lsn = lastLsn + 1;
            long ts = System.currentTimeMillis();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO changelog(lsn, term, ts, ops) VALUES (?, ?, ?, ?)")) {
                ps.setLong(1, lsn);
                ps.setLong(2, writeTerm);
                ps.setLong(3, ts);
                ps.setString(4, ops);
                ps.executeUpdate();
            }
            c.commit();
            committed = dev.tandem.metrics.WriteTrace.now();
            lastLsn = lsn;
            lastChangeTerm = writeTerm;
            change = new Change(lsn, writeTerm, ts, ops);
            recent.add(change);
        } finally {
            commitLock.unlock();
        }
        for (LongConsumer l : commitListeners) {
            l.accept(lsn);
        }
        if (trace.isEnabled()) {
            trace.lsn = lsn;
            trace.startNanos = started;
            trace.committedNanos = committed;
            trace.endNanos = dev.tandem.metrics.WriteTrace.now();
            trace.commit();
        }
        return change;
    }

    /**
     * The same as {@link #changesAfter}, from memory when the change right after {@code afterLsn} was
     * committed recently (the usual case for a streaming secondary), else read from the change log.
     */
    public List<Change> changesToShip(long afterLsn, int limit) {
        List<Change> r = recent.after(afterLsn, limit);
        return r != null ? r : changesAfter(afterLsn, limit);
    }

    /** Called under the commit lock after changes were committed that extend the log (replicated changes). */
    void recentAppended(List<Change> changes) {
        for (Change c : changes) recent.add(c);
    }

    /** Called under the commit lock after the change log was replaced (snapshot installed). */
    void recentCleared() {
        recent.clear();
    }

    /** Changes with LSN greater than {@code afterLsn}, in order, at most {@code limit}, read from the change log. */
    public List<Change> changesAfter(long afterLsn, int limit) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT lsn, term, ts, ops FROM changelog WHERE lsn > ? ORDER BY lsn LIMIT ?")) {
            ps.setLong(1, afterLsn);
            ps.setInt(2, limit);
            List<Change> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Change(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4)));
                }
            }
            c.commit();
            return out;
        } catch (SQLException e) {
            throw new StoreException("cannot read the change log: " + e.getMessage(), e);
        }
    }

    public String meta(String key) {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT v FROM meta WHERE k = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                String v = rs.next() ? rs.getString(1) : null;
                c.commit();
                return v;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read metadata: " + e.getMessage(), e);
        }
    }

    private long queryLong(String sql) {
        try (Connection c = pool.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            long v = rs.getLong(1);
            c.commit();
            return v;
        } catch (SQLException e) {
            throw StoreFile.explain(file, e);
        }
    }

    @Override
    public void close() {
        if (flusher != null) {
            try {
                flusher.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (!failed.get()) { // a failed database has closed itself; asking the pool for a connection would wait its timeout
            try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                st.execute("SHUTDOWN");
            } catch (SQLException e) {
                log.debug("shutdown: {}", e.getMessage());
            }
        }
        pool.close();
    }
}
