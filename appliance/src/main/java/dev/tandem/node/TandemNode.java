package dev.tandem.node;

import dev.tandem.config.TandemConfig;
import dev.tandem.http.Durability;
import dev.tandem.http.HttpApi;
import dev.tandem.store.Store;
import dev.tandem.workflows.NodeView;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tandem process: the composition root. Start order: store, admin token, workflows, HTTP;
 * stop in reverse. Data flows one way: HTTP -> workflow -> store -> (replication).
 */
public final class TandemNode implements AutoCloseable, NodeView {
    private static final Logger log = LoggerFactory.getLogger(TandemNode.class);

    private final TandemConfig config;
    private Vertx vertx;
    private HttpServer http;
    private Store store;
    private WorkflowEngine workflows;
    private volatile boolean ready;
    private volatile String role = "NOT_IN_GROUP";
    private int httpPort;

    public TandemNode(TandemConfig config) {
        this.config = config;
    }

    /** Starts everything; returns once the node is ready (HTTP listening, workflows loaded). */
    public TandemNode start() throws Exception {
        long t0 = System.nanoTime();
        var node = config.node();
        try {
            java.nio.file.Files.createDirectories(node.dataDir());
            AdminToken.ensure(node.dataDir());
        } catch (IOException e) {
            throw new IllegalStateException("cannot prepare node.data_dir " + node.dataDir() + ": " + e.getMessage(), e);
        }
        if (!config.isWitness()) {
            System.setProperty("polyglot.engine.userResourceCache",
                    System.getProperty("polyglot.engine.userResourceCache", node.dataDir().resolve("cache").toAbsolutePath().toString()));
            store = Store.open(node.dataDir());
            // A group of one is its own majority: primary at once. Groups of more come with the cluster layer.
            if (config.group().members().size() == 1) {
                if (store.term() == 0) store.setTerm(1);
                role = "PRIMARY";
            }
            workflows = new WorkflowEngine(node.dataDir().resolve("pylib"), store, this);
            workflows.loadAll(config.workflows().dir());
        }
        vertx = Vertx.vertx();
        HttpApi.Health health = new HttpApi.Health(() -> ready, () -> ready && "PRIMARY".equals(role),
                () -> ready && "SECONDARY".equals(role), this::healthSummary);
        Router router = HttpApi.router(vertx, config.http().bodyLimit(), health, workflows, Durability.LOCAL);
        var bind = config.http().bind();
        http = vertx.createHttpServer(new HttpServerOptions().setCompressionSupported(true))
                .requestHandler(router)
                .listen(bind.port(), bind.host())
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        httpPort = http.actualPort();
        ready = true;
        log.info("node {} ({}) ready in {} ms: http://{}:{}/ role {} term {}", node.name(), node.kind().name().toLowerCase(),
                (System.nanoTime() - t0) / 1_000_000, bind.host(), httpPort, role, store == null ? 0 : store.term());
        return this;
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

    private JsonObject healthSummary() {
        return new JsonObject().put("node", config.node().name()).put("role", role)
                .put("term", store == null ? 0 : store.term());
    }

    @Override
    public String nodeStateJson() {
        var n = config.node();
        return new JsonObject().put("name", n.name()).put("kind", n.kind().name().toLowerCase()).put("role", role)
                .put("term", store == null ? 0 : store.term()).put("priority", n.priority())
                .put("group", config.group().name()).put("primary", "PRIMARY".equals(role) ? n.name() : null)
                .put("lsn", store == null ? 0 : store.lastLsn()).put("lag", 0).encode();
    }

    @Override
    public String groupStateJson() {
        return new JsonObject().put("name", config.group().name()).put("term", store == null ? 0 : store.term())
                .put("primary", "PRIMARY".equals(role) ? config.node().name() : null)
                .put("quorum", config.group().quorum().name().toLowerCase())
                .put("nodes", new io.vertx.core.json.JsonArray().add(new JsonObject(nodeStateJson()))).encode();
    }

    @Override
    public void close() {
        ready = false;
        if (http != null) {
            try {
                http.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("http close: {}", e.toString());
            }
        }
        if (vertx != null) vertx.close();
        if (workflows != null) workflows.close();
        if (store != null) store.close();
    }
}
