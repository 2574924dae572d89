package dev.tandem.node;

import dev.tandem.admin.Deployments;
import dev.tandem.admin.SystemStore;
import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import dev.tandem.cluster.ClusterChannel;
import dev.tandem.cluster.GroupChannel;
import dev.tandem.cluster.GroupMember;
import dev.tandem.cluster.TermFile;
import dev.tandem.config.TandemConfig;
import dev.tandem.events.EventLog;
import dev.tandem.events.NodeEvents;
import dev.tandem.http.Durability;
import dev.tandem.http.HttpApi;
import dev.tandem.metrics.NodeMetrics;
import dev.tandem.replication.Replication;
import dev.tandem.store.Store;
import dev.tandem.workflows.HostCommands;
import dev.tandem.workflows.NodeView;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tandem process: the composition root. Start order: store and workflows (data nodes), HTTP,
 * then the group (so a node takes part in elections only once it can serve); stop in reverse.
 * Data flows one way: HTTP -> workflow -> store -> (replication); roles flow from the group out to
 * the store's write gate, the health endpoints and the workflows' hooks.
 */
public final class TandemNode implements AutoCloseable, NodeView {
    private static final Logger log = LoggerFactory.getLogger(TandemNode.class);

    private final TandemConfig config;
    private final boolean faults;
    private Vertx vertx;
    private HttpServer http;
    private Store store;
    private WorkflowEngine workflows;
    private GroupMember group;
    private Replication replication;
    private final NodeEvents events;
    private volatile boolean ready;
    private SystemStore system;
    private Deployments deployments;
    private int httpPort;
    private NodeMetrics metrics;
    private long metricsTimer = -1;

    /** What the node does when it cannot go on (its store failed): by default it closes itself; `tandem run` exits. */
    private volatile java.util.function.Consumer<String> onFatal = why -> new Thread(this::close, "fatal-close").start();

    /** A node; fault injection only when the JVM runs with {@code -Dtandem.faults=true} (fault tests, never production). */
    public TandemNode(TandemConfig config) {
        this(config, Boolean.getBoolean("tandem.faults"));
    }

    /** @param faults true to build the group channel with a DISCARD protocol (tests cut the network with it) */
    public TandemNode(TandemConfig config, boolean faults) {
        this.config = config;
        this.faults = faults;
        this.events = new NodeEvents(config.workflows().hookTimeout());
    }

    /** Replaces what the node does when it cannot go on (see {@link #onFatal}); set before {@link #start}. */
    public TandemNode onFatal(java.util.function.Consumer<String> handler) {
        this.onFatal = handler;
        return this;
    }

    /** Starts everything; returns once the node is ready (workflows loaded, HTTP listening, group joined). */
    public TandemNode start() throws Exception {
        long t0 = System.nanoTime();
        var node = config.node();
        String token;
        try {
            Files.createDirectories(node.dataDir());
            token = AdminToken.ensure(node.dataDir(), config.group().secretFile());
        } catch (IOException e) {
            throw new IllegalStateException("cannot prepare node.data_dir " + node.dataDir() + ": " + e.getMessage(), e);
        }
        TermFile terms = new TermFile(node.dataDir());
        if (!config.isWitness()) {
            System.setProperty("polyglot.engine.userResourceCache",
                    System.getProperty("polyglot.engine.userResourceCache", node.dataDir().resolve("cache").toAbsolutePath().toString()));
            store = Store.open(node.dataDir());
            store.onFailure(why -> {
                // crash-only: H2 closed the database, so nothing can be read or committed here until the node starts
                // again. Stopping lets the group fail over at once instead of keeping a primary that fails every request.
                log.error("node {} stops: its store failed: {}. The group fails over to its peer. Free space in {} (or repair the disk) "
                        + "and start the node again (systemd does, every 2 s): it checks its file and catches up from the primary",
                        node.name(), why, node.dataDir());
                onFatal.accept(why);
            });
            if (config.replication().fsync()) store.enableFsync();
            HostCommands commands = new HostCommands(config.workflows().commands(), config.workflows().hookTimeout(),
                    Map.of("TANDEM_NODE", node.name(), "TANDEM_GROUP", config.group().name()),
                    run -> events.record("COMMAND_RUN", run));
            workflows = new WorkflowEngine(node.dataDir().resolve("pylib"), store, this, commands)
                    .timeouts(config.workflows().requestTimeout(), config.workflows().loadTimeout());
            system = new SystemStore(store);
            deployments = new Deployments(system, workflows, node.dataDir().resolve("deployed"), config.workflows().dir(), events::record);
        }
        GroupChannel channel = new GroupChannel(ClusterChannel.create(config, faults));
        group = new GroupMember(config, terms, store == null ? null : new GroupMember.DataState() {
            @Override
            public long lastTerm() {
                return store.lastChangeTerm();
            }

            @Override
            public long lastLsn() {
                return store.lastLsn();
            }

            @Override
            public void awaitCommitsInFlight() {
                store.awaitCommitsInFlight();
            }
        }, channel);
        group.addListener(new GroupMember.Listener() {
            @Override
            public void becomingPrimary(long term) {
                if (store != null) store.setWriteTerm(term);
                if (deployments != null) deployments.requestReconcile(); // hands off: never delays the promotion
            }

            @Override
            public void roleChanged(NodeRole previous, NodeRole now, long term, String reason, long tookMillis) {
                events.roleChanged(previous, now, term, reason, tookMillis);
            }

            @Override
            public void event(EventId id, JsonObject data) {
                events.publish(id, data);
            }
        });
        if (store != null) {
            replication = new Replication(config, store, group, channel, events);
            group.setReplicationInfo(replication::info);
            store.setWriteGate(group::mayWrite);
            events.deliverTo(workflows, group::term);
            events.welcomeExtensions(group.role(), group.term());
            // SPEC 6, hook delivery 1: each workflow's first call, as it is installed
            workflows.onInstall(wf -> events.welcome(wf, group.role(), group.term()));
        }

        metrics = new NodeMetrics(config.group().name(), node.name());
        metrics.bind(group, replication == null ? null : replication::info, store == null ? () -> 0L : store::lastLsn);
        events.log().subscribe(metrics::onEvent);
        // Vert.x reports its HTTP server, pools and event loops into the same registry (vertx_* series)
        vertx = Vertx.builder().with(new io.vertx.core.VertxOptions().setMetricsOptions(
                        new io.vertx.micrometer.MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(false)))
                .withMetrics(new io.vertx.micrometer.MicrometerMetricsFactory(metrics.registry())).build();
        metricsTimer = vertx.setPeriodic(1000, 1000, id -> {
            if (!group.running()) return; // stopping: the group thread is gone
            try {
                dev.tandem.http.GroupJson.group(group).thenAccept(g -> metrics.refresh(g, replication == null ? null : replication.info()));
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                // close() shut the group thread down between the check and the call
            }
        });
        HttpApi.Health health = new HttpApi.Health(() -> ready, () -> ready && group.mayAcknowledge(),
                () -> ready && replication != null && replication.caughtUp(), this::healthSummary);
        Router router = HttpApi.router(vertx, config, health, group, workflows, durability(), token, events.log(), system, deployments, store, metrics);
        var bind = config.http().bind();
        http = HttpApi.server(vertx, config, router)
                .listen(bind.port(), bind.host())
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        httpPort = http.actualPort();
        String host = bind.host().equals("0.0.0.0") || bind.host().equals("::") ? config.group().bind().host() : bind.host();
        group.setHttpUrl(dev.tandem.http.Tls.scheme(config.http()) + "://" + host + ":" + httpPort);
        // HTTP answers (live; ready says 503) while workflows load; each load is bounded by workflows.load_timeout,
        // and one that fails or hangs is kept as failed: it never keeps the node from joining its group
        if (workflows != null) {
            workflows.loadAll(config.workflows().dir());
            deployments.reconcile(); // what the group deployed, as far as this node's store knows
            store.onSystemApplied(deployments::requestReconcile);
        }
        group.start();
        ready = true;
        log.info("node {} ({}) ready in {} ms: http://{}:{}/ group {} at {}", node.name(), node.kind().name().toLowerCase(),
                (System.nanoTime() - t0) / 1_000_000, bind.host(), httpPort, config.group().name(), config.group().bind());
        return this;
    }

    /**
     * A write is acknowledged once it is as durable as the replication mode promises (sync: applied by
     * the secondary) and only while this node is primary of the newest term and holds its lease (G1).
     */
    private Durability durability() {
        long wait = config.group().failureTimeout().toMillis() + 2000;
        return lsn -> java.util.concurrent.CompletableFuture.allOf(store.durable(lsn), replication.awaitReplicated(lsn))
                .thenCompose(v -> group.awaitAcknowledgeable(lsn, wait)).handle((v, err) -> {
            if (err == null) return (Void) null;
            Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
            if (c instanceof dev.tandem.core.WriteRefused r) throw r.afterCommit(lsn);
            // anything else is the store failing to sync: not confirmed either, the client must not count it as done
            throw new dev.tandem.core.WriteRefused(dev.tandem.core.WriteRefused.Reason.NOT_DURABLE, c.toString()).afterCommit(lsn);
        });
    }

    public EventLog events() {
        return events.log();
    }

    public int httpPort() {
        return httpPort;
    }

    public Store store() {
        return store;
    }

    public WorkflowEngine workflows() {
        return workflows;
    }

    public GroupMember group() {
        return group;
    }

    public Replication replication() {
        return replication;
    }

    private JsonObject healthSummary() {
        return new JsonObject().put("node", config.node().name()).put("role", group.role().name()).put("term", group.term())
                .put("primary", group.primary());
    }

    @Override
    public String nodeStateJson() {
        return dev.tandem.http.GroupJson.node(group).encode();
    }

    @Override
    public String groupStateJson() {
        try {
            return dev.tandem.http.GroupJson.group(group).get(5, TimeUnit.SECONDS).encode();
        } catch (Exception e) {
            throw new IllegalStateException("the group state is not available: " + e, e);
        }
    }

    @Override
    public void close() {
        ready = false;
        if (vertx != null && metricsTimer >= 0) vertx.cancelTimer(metricsTimer);
        if (deployments != null) deployments.close();
        if (replication != null) replication.close();
        if (group != null) group.close();
        if (http != null) {
            try {
                http.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("http close: {}", e.toString());
            }
        }
        if (vertx != null) vertx.close();
        if (workflows != null) workflows.close();
        events.close();
        if (store != null) store.close();
    }
}
