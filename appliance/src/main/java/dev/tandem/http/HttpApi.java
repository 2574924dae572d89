package dev.tandem.http;

import dev.tandem.cluster.GroupMember;
import dev.tandem.config.TandemConfig;
import dev.tandem.events.EventLog;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The node's HTTP surface. Health endpoints answer with the status code alone mattering (for load
 * balancers); everything else is JSON, errors included.
 */
public final class HttpApi {
    /** What the health endpoints read; each answer must be cheap and never block. */
    public record Health(BooleanSupplier ready, BooleanSupplier primary, BooleanSupplier secondary, Supplier<JsonObject> summary) {}

    private HttpApi() {}

    public static Router router(Vertx vertx, TandemConfig config, Health health, GroupMember group, WorkflowEngine engine,
                                Durability durability, String adminToken, EventLog events,
                                dev.tandem.admin.SystemStore system, dev.tandem.admin.Deployments deployments,
                                dev.tandem.store.Store store, dev.tandem.metrics.NodeMetrics metrics) {
        long bodyLimit = config.http().bodyLimit();
        Router router = Router.router(vertx);
        router.route().handler(BodyHandler.create(false).setBodyLimit(bodyLimit));

        // CORS first: a preflight is answered before login is checked and before it could be audited
        router.route("/api/v1/*").order(-10).handler(ctx -> Console.cors(ctx, group));
        router.route("/metrics").order(-10).handler(ctx -> Console.cors(ctx, group));
        Console.mount(router, group);

        router.get("/health/live").handler(ctx -> health(ctx, () -> true, health));
        router.get("/health/ready").handler(ctx -> health(ctx, health.ready(), health));
        router.get("/health/primary").handler(ctx -> health(ctx, health.primary(), health));
        router.get("/health/secondary").handler(ctx -> health(ctx, health.secondary(), health));

        Forwarder forwarder = new Forwarder(vertx, group, config.node().name(), config.http(), config.group().failureTimeout().toMillis() + 2000);
        AdminApi.mount(router, new AdminApi.Env(group, engine, adminToken, events, system, deployments, durability, forwarder, store,
                new LoginLimiter(System::currentTimeMillis), health, metrics, config.http().metricsPublic()));
        if (engine != null) {
            WorkflowRoutes routes = new WorkflowRoutes(engine, durability, group, config, forwarder, metrics);
            router.route("/workflows/:name").handler(routes);
            router.route("/workflows/:name/*").handler(routes);
        }

        router.errorHandler(400, ctx -> failure(ctx, 400, "bad request: " + reason(ctx)));
        router.errorHandler(404, ctx -> failure(ctx, 404, "nothing at " + ctx.normalizedPath()
                + "; see /console/, /health/*, /api/v1/*, /metrics and /workflows/{name}/..."));
        router.errorHandler(408, ctx -> failure(ctx, 408, "the request did not arrive in time"));
        router.errorHandler(405, ctx -> failure(ctx, 405, ctx.request().method() + " is not allowed on " + ctx.normalizedPath()));
        router.errorHandler(413, ctx -> failure(ctx, 413, "the request body is larger than http.body_limit ("
                + bodyLimit + " bytes); send less, or raise http.body_limit"));
        router.errorHandler(500, ctx -> {
            String id = WorkflowRoutes.errorId();
            org.slf4j.LoggerFactory.getLogger(HttpApi.class).error("request {} failed [error {}]", ctx.normalizedPath(), id, ctx.failure());
            failure(ctx, 500, "the node failed to answer; see the node log for error " + id);
        });
        return router;
    }

    /**
     * The node's HTTP server for {@code router}: the request guard (origin-form targets only, connection
     * deadlines, JSON for undecodable requests) runs ahead of every route; TLS when http.tls is set.
     */
    public static HttpServer server(Vertx vertx, TandemConfig config, Router router) {
        HttpServerOptions options = new HttpServerOptions().setCompressionSupported(true)
                // HTTP/1.1 only: no cleartext HTTP/2 upgrade (h2c), whose connections the request guard could not follow
                .setHttp2ClearTextEnabled(false)
                .setMaxFormAttributeSize(8192)
                // a last backstop for a connection on which nothing moves at all (a client that never reads its answer);
                // far above any legitimate wait (a deploy loading its workflow, a route up to request_timeout):
                // RequestGuard's client_timeout is what cuts stalled clients
                .setIdleTimeout((int) Math.max(600, config.http().clientTimeout().toSeconds() * 4)).setIdleTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS);
        Tls.configure(options, config.http());
        HttpServer server = vertx.createHttpServer(options);
        RequestGuard guard = RequestGuard.install(vertx, server, config.http().clientTimeout().toMillis());
        router.route().order(-1000).handler(guard::handle);
        if (config.http().tls()) {
            router.route().order(-999).handler(ctx -> {
                ctx.response().putHeader("Strict-Transport-Security", "max-age=31536000");
                ctx.next();
            });
        }
        // before the router: a target Vert.x-web cannot route (authority-form "host:port", "*") still gets its 400
        return server.requestHandler(req -> {
            if (RequestGuard.originForm(req)) router.handle(req);
            else RequestGuard.refuseTarget(req);
        });
    }

    private static String reason(RoutingContext ctx) {
        Throwable f = ctx.failure();
        if (f == null) return "the request could not be read";
        String name = f.getClass().getSimpleName();
        if (name.contains("TooManyFormFields")) return "the form has too many fields; send JSON, or fewer fields";
        if (name.contains("TooLongFormField")) return "a form field is longer than 8 KiB; send JSON, or shorter fields";
        if (f.getMessage() == null) return "the body could not be decoded (" + name + "); send JSON with 'Content-Type: application/json'";
        return Errors.clip(f.getMessage(), 200);
    }

    private static void failure(RoutingContext ctx, int status, String message) {
        Errors.send(ctx, status, message);
    }

    /**
     * {@code checked_at_ms} is the wall-clock time the answer was decided, read right after the check:
     * a process frozen between deciding and writing delivers its answer late, and whoever reads it
     * (a load balancer, the fault tests) can tell a stale answer from a new one.
     */
    private static void health(RoutingContext ctx, BooleanSupplier check, Health health) {
        boolean ok = check.getAsBoolean();
        long checkedAt = System.currentTimeMillis();
        ctx.response().setStatusCode(ok ? 200 : 503)
                .putHeader("content-type", "application/json")
                .putHeader("cache-control", "no-store")
                .end(health.summary().get().put("ok", ok).put("checked_at_ms", checkedAt).encode());
    }
}
