package dev.tandem.workflows;

import dev.tandem.store.Store;
import dev.tandem.store.StoreTx;
import org.graalvm.polyglot.HostAccess;

/**
 * The Java object that the Python package {@code tandem} calls (installed as {@code tandem._bridge.host}).
 * Only methods marked {@link HostAccess.Export} are visible to Python. Each workflow has its own,
 * bound to its own namespace in the store.
 */
public final class PythonHost {
    private final Store store;
    private final String namespace;
    private final NodeView node;
    private final HostCommands commands;
    /** The last LSN committed by the current thread's request or hook; read and cleared by the caller. */
    /** The newest change this thread's route committed: {lsn, term}. */
    private final ThreadLocal<long[]> lastCommit = ThreadLocal.withInitial(() -> new long[2]);
    /** Set when a commit of the current request was refused because this node stopped being primary. */
    private final ThreadLocal<String> refused = new ThreadLocal<>();

    PythonHost(Store store, String namespace, NodeView node, HostCommands commands) {
        this.store = store;
        this.namespace = namespace;
        this.node = node;
        this.commands = commands;
    }

    /** {@code tandem.host.run}: a JSON result, or {@code {"not_allowed": message}}. */
    @HostAccess.Export
    public String runCommand(String name, double timeoutSeconds) {
        try {
            return commands.run(namespace, name, java.time.Duration.ofMillis((long) (timeoutSeconds * 1000))).json().encode();
        } catch (HostCommands.NotAllowedException e) {
            return new io.vertx.core.json.JsonObject().put("not_allowed", e.getMessage()).encode();
        }
    }

    @HostAccess.Export
    public String commandNames() {
        return new io.vertx.core.json.JsonArray(commands.names()).encode();
    }

    /** The transactions the current thread's code has begun and not yet ended. */
    private final ThreadLocal<java.util.List<Tx>> open = ThreadLocal.withInitial(java.util.ArrayList::new);

    @HostAccess.Export
    public Tx begin() {
        Tx tx = new Tx(store.begin(namespace));
        open.get().add(tx);
        return tx;
    }

    /** Rolls back every transaction the current thread left open (its code was interrupted or forgot to end one). */
    void closeAbandoned() {
        java.util.List<Tx> list = open.get();
        if (list.isEmpty()) return;
        for (Tx tx : java.util.List.copyOf(list)) {
            try {
                tx.tx.close();
            } catch (RuntimeException ignored) {
                // the connection is broken: the pool replaces it
            }
        }
        list.clear();
    }

    @HostAccess.Export
    public String nodeState() {
        return node.nodeStateJson();
    }

    @HostAccess.Export
    public String groupState() {
        return node.groupStateJson();
    }

    String takeRefused() {
        String r = refused.get();
        refused.remove();
        return r;
    }

    /** The newest change committed on this thread since the last call, {lsn, term} ({0, 0} for none); forgets it. */
    long[] takeLastCommit() {
        long[] cell = lastCommit.get();
        long[] v = cell.clone();
        cell[0] = 0;
        cell[1] = 0;
        return v;
    }

    /** A store transaction as Python sees it. */
    public final class Tx {
        private final StoreTx tx;

        Tx(StoreTx tx) {
            this.tx = tx;
        }

        @HostAccess.Export
        public String get(String coll, String key) {
            return tx.get(coll, key);
        }

        @HostAccess.Export
        public void put(String coll, String key, String json) {
            tx.put(coll, key, json);
        }

        @HostAccess.Export
        public boolean delete(String coll, String key) {
            return tx.delete(coll, key);
        }

        @HostAccess.Export
        public String scan(String coll, String prefix, int limit) {
            return tx.scan(coll, prefix, limit);
        }

        @HostAccess.Export
        public long count(String coll, String prefix) {
            return tx.count(coll, prefix);
        }

        @HostAccess.Export
        public void commit() {
            open.get().remove(this);
            long lsn;
            try {
                lsn = tx.commit();
            } catch (dev.tandem.core.WriteRefused e) {
                refused.set(e.getMessage());
                throw e;
            }
            long[] cell = lastCommit.get();
            if (lsn > cell[0]) {
                cell[0] = lsn;
                cell[1] = tx.committedTerm();
            }
        }

        @HostAccess.Export
        public void rollback() {
            open.get().remove(this);
            tx.rollback();
        }
    }
}
