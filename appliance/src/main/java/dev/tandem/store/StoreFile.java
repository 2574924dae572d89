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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening the store's file: before H2 may write to an existing file, it is checked read-only (an H2 file,
 * tandem's, the store this data_dir held, every table and index readable), then opened through HikariCP
 * and migrated to the current schema. A file that fails any check is left exactly as it was, and the
 * error says what to do. The store's state API is {@link Store}.
 */
final class StoreFile {
    private static final Logger log = LoggerFactory.getLogger(StoreFile.class);
    static final String FILE_NAME = "tandem.mv.db";
    /** Written once the schema exists: "this data_dir held store <id>". A database without it is refused, not recreated. */
    static final String MARKER = "store.id";
    private static final String USER = "tandem";
    private static final byte[] H2_HEADER = "H:2,".getBytes(StandardCharsets.US_ASCII);

    private StoreFile() {}

    /** An open, migrated database. */
    record Opened(HikariDataSource pool, Path file, String storeId) {}

    /** Opens (or creates) the database in {@code dataDir}, checked and migrated; see the class comment. */
    static Opened open(Path dataDir) {
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
            return new Opened(ds, file, migrate(ds, file, marker));
        } catch (RuntimeException e) {
            shutdown(ds);
            throw e;
        }
    }

    static void shutdown(HikariDataSource ds) {
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
            if (checkIdentity(c, file, expectedId)) {
                readEverything(c, file);
                checkRecords(c, file, expectedId);
            }
        } catch (SQLException e) {
            if (e.getErrorCode() == 90097) { // "the database is read only": H2 wanted to rewrite it
                throw new StoreException(file + " is corrupt: H2 can open it only by rewriting it, which would lose its data."
                        + " It was left exactly as it was. Move it away (or restore a backup) and start again;"
                        + " the node will catch up from its peer", e);
            }
            if (e.getErrorCode() == 28000 && expectedId != null) {
                // this data_dir's marker says it held a tandem store: its user table was damaged, it is not another application's
                throw damaged(file, "its users", new SQLException("it held store " + expectedId + ", but H2 no longer knows tandem's user", e));
            }
            StoreException known = known(file, e);
            if (known != null) throw known;
            // not foreign, not locked: H2 failed reading a file whose header checkHeader just read, so the file is
            // damaged (a flipped byte in its metadata can surface as "Data conversion error converting UUID to INTEGER",
            // a chunk pointer past the end as "IO Exception"); H2's own words are in the message
            throw damaged(file, "its tables", e);
        }
    }

    /** A file H2 could not read: left as it was; what to do about it. */
    private static StoreException damaged(Path file, String what, Exception e) {
        return new StoreException(file + " is damaged: reading " + what + " failed (" + firstLine(String.valueOf(e.getMessage()))
                + "). It was left exactly as it was. Restore it from a backup, or move it away (mv " + file + " " + file
                + ".damaged) and start the node again: it will catch up from its peer", e);
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
            throw damaged(file, table == null ? "its tables" : "table " + table, e);
        }
    }

    /**
     * The records every tandem store has, read while the file is still open read-only: a schema version this
     * tandem knows (a damaged file can show an empty TANDEM_SCHEMA table, and migrating it would write to it)
     * and the store id the data_dir's marker names. (A first start killed between its first migration's statements
     * also leaves no version: the file then holds no data, and moving it away, as the error says, is right.)
     */
    private static void checkRecords(Connection c, Path file, String expectedId) {
        int version;
        String id;
        try (Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM tandem_schema")) {
                rs.next();
                version = rs.getInt(1);
            }
            try (ResultSet rs = st.executeQuery("SELECT v FROM meta WHERE k='store_id'")) {
                id = rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw damaged(file, "its schema version and store id", e);
        }
        checkNotNewer(file, version);
        if (version < 1 || id == null) {
            throw damaged(file, "its records", new SQLException(version < 1 ? "the schema table TANDEM_SCHEMA is empty" : "the store id is missing from META"));
        }
        checkSameStore(file, id, expectedId);
    }

    private static void checkNotNewer(Path file, int version) {
        if (version > Schema.latest()) {
            throw new StoreException(file + " has schema version " + version + ", newer than this tandem (" + Schema.latest()
                    + "); run the newer tandem version or restore a backup");
        }
    }

    /** Refuses a file holding another store than the one the data_dir's marker names (none named: any). */
    private static void checkSameStore(Path file, String id, String expectedId) {
        if (expectedId != null && !expectedId.equals(id)) {
            throw new StoreException(file + " holds store " + id + " but this data_dir held store " + expectedId
                    + "; the file was replaced by another node's. Put the right file back, or remove both it and "
                    + MARKER + " to start afresh");
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

    static StoreException explain(Path file, SQLException e) {
        StoreException known = known(file, e);
        return known != null ? known : new StoreException("cannot open " + file + ": " + firstLine(String.valueOf(e.getMessage())), e);
    }

    /** What an error from H2 means when it is one tandem recognises (foreign, in use, corrupt); else null. */
    private static StoreException known(Path file, SQLException e) {
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
        return null;
    }

    static String firstLine(String m) {
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
        if (tables > 0 && !hasSchemaTable && expectedId != null) {
            // this data_dir's marker says it held a tandem store: a damaged file, not another application's
            throw damaged(file, "its tables", new SQLException("it held store " + expectedId + ", but its TANDEM_SCHEMA table is gone"));
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
    private static String migrate(HikariDataSource pool, Path file, Path marker) {
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
            checkNotNewer(file, version);
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
            checkSameStore(file, id, expectedId);
            if (expectedId == null) writeMarker(marker, id);
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
}
