package dev.tandem.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.DriverManager;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
    static final String FILE_NAME = "tandem.mv.db";
    /** Written once the schema exists: "this data_dir held store <id>". A database without it is refused, not recreated. */
    static final String MARKER = "store.id";
    private static final String USER = "tandem";
    private static final byte[] H2_HEADER = "H:2,".getBytes(StandardCharsets.US_ASCII);

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

    private Store(HikariDataSource pool, Path file, Path marker) {
        this.pool = pool;
        this.file = file;
        this.storeId = migrate(marker);
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
     * that H2 can only open by starting it afresh (H2 quietly does that with wrecked files).
     */
    public static Store open(Path dataDir) {
        Path file = dataDir.resolve(FILE_NAME);
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StoreException("cannot create data_dir " + dataDir + ": " + e.getMessage()
                    + "; create it and give the tandem user write access", e);
        }
        Path marker = dataDir.resolve(MARKER);
        String url = "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("tandem");
        if (Files.exists(file)) {
            checkHeader(file);
            verifyReadOnly(url, file, readMarker(marker));
        } else {
            deleteQuietly(marker); // the database was moved away: start afresh, the peer fills it
        }
        HikariConfig hc = new HikariConfig();
        // WRITE_DELAY=0: each commit reaches the file before commit() returns (survives kill -9).
        hc.setJdbcUrl(url + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE");
        hc.setUsername(USER);
        hc.setPassword("");
        hc.setAutoCommit(false);
        hc.setMaximumPoolSize(16);
        hc.setMinimumIdle(2);
        hc.setPoolName("store");
        hc.setInitializationFailTimeout(1); // a locked or corrupt file fails at once, not after connectionTimeout
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(hc);
        } catch (HikariPool.PoolInitializationException e) {
            throw e.getCause() instanceof SQLException sql ? explain(file, sql) : new StoreException("cannot open " + file + ": " + e.getMessage(), e);
        }
        try {
            return new Store(ds, file, marker);
        } catch (RuntimeException e) {
            shutdown(ds);
            throw e;
        }
    }

    private static void shutdown(HikariDataSource ds) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("SHUTDOWN IMMEDIATELY");
        } catch (SQLException e) {
            log.debug("shutdown: {}", e.getMessage());
        }
        ds.close();
    }

    /**
     * Opens an existing file read-only and checks it is tandem's. H2 quietly starts a wrecked file afresh
     * when it may write, so a file that H2 can open only by writing to it is refused, not opened.
     */
    private static void verifyReadOnly(String url, Path file, String expectedId) {
        try (Connection c = DriverManager.getConnection(url + ";ACCESS_MODE_DATA=r", USER, "")) {
            if (checkIdentity(c, file, expectedId)) readEverything(c, file);
        } catch (SQLException e) {
            if (e.getErrorCode() == 90097) { // "the database is read only": H2 wanted to rewrite it
                throw new StoreException(file + " is corrupt: H2 can open it only by rewriting it, which would lose its data."
                        + " It was left exactly as it was. Move it away (or restore a backup) and start again;"
                        + " the node will catch up from its peer", e);
            }
            throw explain(file, e);
        }
    }

    /**
     * Reads every row of every table, and every index, while the file is open read-only: a damaged page
     * is found here, before H2 may write (opening read-write rewrites the file's header and chunks, so a
     * refusal after that would leave the file changed). Costs one pass over the data at start.
     */
    private static void readEverything(Connection c, Path file) {
        String table = null;
        try (Statement st = c.createStatement()) {
            java.util.List<String[]> indexes = new java.util.ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT i.TABLE_NAME, i.INDEX_NAME, STRING_AGG(ic.COLUMN_NAME, ',' ORDER BY ic.ORDINAL_POSITION)"
                    + " FROM INFORMATION_SCHEMA.INDEXES i JOIN INFORMATION_SCHEMA.INDEX_COLUMNS ic ON i.INDEX_SCHEMA = ic.INDEX_SCHEMA"
                    + " AND i.INDEX_NAME = ic.INDEX_NAME AND i.TABLE_NAME = ic.TABLE_NAME WHERE i.TABLE_SCHEMA = 'PUBLIC'"
                    + " GROUP BY i.TABLE_NAME, i.INDEX_NAME")) {
                while (rs.next()) indexes.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
            }
            java.util.List<String> tables = new java.util.ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'PUBLIC'")) {
                while (rs.next()) tables.add(rs.getString(1));
            }
            for (String required : java.util.List.of("TANDEM_SCHEMA", "META", "DOCS", "CHANGELOG")) {
                if (!tables.contains(required)) throw new SQLException("table " + required + " is missing");
            }
            for (String t : tables) {
                table = t;
                try (ResultSet rs = st.executeQuery("SELECT * FROM \"" + t + "\"")) {
                    int cols = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        for (int i = 1; i <= cols; i++) rs.getString(i);
                    }
                }
            }
            for (String[] ix : indexes) {
                table = ix[0] + " (index " + ix[1] + ")";
                String cols = java.util.Arrays.stream(ix[2].split(",")).map(x -> "\"" + x + "\"").collect(java.util.stream.Collectors.joining(", "));
                try (ResultSet rs = st.executeQuery("SELECT " + cols + " FROM \"" + ix[0] + "\" USE INDEX (\"" + ix[1] + "\") ORDER BY " + cols)) {
                    while (rs.next()) rs.getString(1);
                }
            }
        } catch (SQLException | RuntimeException e) {
            throw new StoreException(file + " is damaged: reading " + (table == null ? "its tables" : "table " + table) + " failed ("
                    + firstLine(String.valueOf(e.getMessage())) + "). It was left exactly as it was. Restore it from a backup, or move it"
                    + " away (mv " + file + " " + file + ".damaged) and start the node again: it will catch up from its peer", e);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", p, e.getMessage());
        }
    }

    private static void checkHeader(Path file) {
        if (!Files.exists(file)) return;
        byte[] head = new byte[H2_HEADER.length];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, head.length);
            if (n == head.length && java.util.Arrays.equals(head, H2_HEADER)) return;
        } catch (IOException e) {
            throw new StoreException("cannot read " + file + ": " + e.getMessage(), e);
        }
        throw new StoreException(file + " is not an H2 database (foreign or corrupt file). tandem will not touch it: "
                + "move it away (or restore it from a backup) and start again; the node will then catch up from its peer");
    }

    private static StoreException explain(Path file, SQLException e) {
        String m = String.valueOf(e.getMessage());
        if (e.getErrorCode() == 28000) {
            return new StoreException(file + " is an H2 database but not tandem's (it has other users). tandem will not touch it: "
                    + "point node.data_dir at tandem's own directory", e);
        }
        if (e.getErrorCode() == 90020 || m.contains("already in use") || m.contains("locked")) {
            return new StoreException(file + " is in use by another process; stop the other tandem node using this data_dir, "
                    + "or give this node its own data_dir", e);
        }
        if (e.getErrorCode() == 90030 || m.contains("corrupt")) {
            return new StoreException(file + " is corrupt and was left untouched: " + firstLine(m)
                    + ". Move it away (or restore a backup) and start again; the node will catch up from its peer", e);
        }
        return new StoreException("cannot open " + file + ": " + firstLine(m), e);
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Refuses a database that is not tandem's, or that lost the tandem data the marker says it held. */
    private static boolean checkIdentity(Connection c, Path file, String expectedId) throws SQLException {
        boolean hasSchemaTable;
        int tables;
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*), SUM(CASE WHEN TABLE_NAME='TANDEM_SCHEMA' THEN 1 ELSE 0 END)"
                     + " FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA='PUBLIC'")) {
            rs.next();
            tables = rs.getInt(1);
            hasSchemaTable = rs.getInt(2) > 0;
        }
        if (tables > 0 && !hasSchemaTable) {
            throw new StoreException(file + " is an H2 database but not tandem's (it has tables and no TANDEM_SCHEMA). "
                    + "tandem will not touch it: point node.data_dir at tandem's own directory");
        }
        if (!hasSchemaTable && expectedId != null) {
            throw new StoreException(file + " is corrupt: it held store " + expectedId + " but H2 finds no tandem data in it."
                    + " It was left exactly as it was. Move it away (or restore a backup) and start again;"
                    + " the node will catch up from its peer");
        }
        return hasSchemaTable;
    }

    /** Applies missing migrations; refuses foreign or newer databases. Returns the store id. */
    private String migrate(Path marker) {
        String expectedId = readMarker(marker);
        try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
            boolean hasSchemaTable = checkIdentity(c, file, expectedId);
            if (!hasSchemaTable) {
                st.execute("CREATE TABLE tandem_schema(version INT PRIMARY KEY, applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
                c.commit();
            }
            int version;
            try (ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM tandem_schema")) {
                rs.next();
                version = rs.getInt(1);
            }
            if (version > Schema.latest()) {
                throw new StoreException(file + " has schema version " + version + ", newer than this tandem (" + Schema.latest()
                        + "); run the newer tandem version or restore a backup");
            }
            for (int v = version + 1; v <= Schema.latest(); v++) {
                for (String sql : Schema.MIGRATIONS.get(v - 1)) {
                    st.execute(sql);
                }
                st.execute("INSERT INTO tandem_schema VALUES (" + v + ", CURRENT_TIMESTAMP)");
                if (v == 1) {
                    st.execute("INSERT INTO meta VALUES ('store_id', '" + UUID.randomUUID() + "')");
                }
                c.commit();
                log.info("store schema migrated to version {}", v);
            }
            String id;
            try (ResultSet rs = st.executeQuery("SELECT v FROM meta WHERE k='store_id'")) {
                rs.next();
                id = rs.getString(1);
            }
            if (expectedId == null) {
                writeMarker(marker, id);
            } else if (!expectedId.equals(id)) {
                throw new StoreException(file + " holds store " + id + " but this data_dir held store " + expectedId
                        + "; the file was replaced by another node's. Put the right file back, or remove both it and "
                        + marker.getFileName() + " to start afresh");
            }
            return id;
        } catch (SQLException e) {
            throw explain(file, e);
        }
    }

    private static String readMarker(Path marker) {
        try {
            return Files.exists(marker) ? Files.readString(marker).strip() : null;
        } catch (IOException e) {
            throw new StoreException("cannot read " + marker + ": " + e.getMessage(), e);
        }
    }

    private static void writeMarker(Path marker, String id) {
        try {
            Path tmp = marker.resolveSibling(MARKER + ".tmp");
            Files.writeString(tmp, id + "\n");
            Files.move(tmp, marker, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new StoreException("cannot write " + marker + ": " + e.getMessage(), e);
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
            throw new StoreException("store: " + firstLine(String.valueOf(e.getMessage())), e);
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
            throw new StoreException("cannot start a transaction: " + firstLine(String.valueOf(e.getMessage())), e);
        }
    }

    /** Commits {@code c} with the next LSN and its change log row; returns that LSN. */
    long commitWithLsn(Connection c, String ops) throws SQLException {
        long lsn;
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
            lastLsn = lsn;
            lastChangeTerm = writeTerm;
            recent.add(new Change(lsn, writeTerm, ts, ops));
        } finally {
            commitLock.unlock();
        }
        for (LongConsumer l : commitListeners) {
            l.accept(lsn);
        }
        return lsn;
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
            throw explain(file, e);
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
        try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
            st.execute("SHUTDOWN");
        } catch (SQLException e) {
            log.debug("shutdown: {}", e.getMessage());
        }
        pool.close();
    }
}
