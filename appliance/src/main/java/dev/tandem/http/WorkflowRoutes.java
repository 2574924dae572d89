package dev.tandem.http;

import dev.tandem.cluster.GroupMember;
import dev.tandem.config.TandemConfig;
import dev.tandem.workflows.RoutePattern;
import dev.tandem.workflows.Workflow;
import dev.tandem.workflows.WorkflowEngine;
import dev.tandem.workflows.WorkflowRequest;
import dev.tandem.workflows.WorkflowResponse;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /workflows/{name}/...}: validates the request, runs the route on the workflow's thread, answers. */
final class WorkflowRoutes implements Handler<RoutingContext> {
    private static final Logger log = LoggerFactory.getLogger(WorkflowRoutes.class);
    private final WorkflowEngine engine;
    private final Durability durability;
    private final GroupMember group;
    private final TandemConfig config;
    private final Forwarder forwarder;
    private final dev.tandem.metrics.NodeMetrics metrics;

    WorkflowRoutes(WorkflowEngine engine, Durability durability, GroupMember group, TandemConfig config, Forwarder forwarder,
                   dev.tandem.metrics.NodeMetrics metrics) {
        this.metrics = metrics;
        this.engine = engine;
        this.durability = durability;
        this.group = group;
        this.config = config;
        this.forwarder = forwarder;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long in = dev.tandem.metrics.WriteTrace.now();
        String name = ctx.pathParam("name");
        Workflow wf = engine.get(name);
        if (wf == null) {
            Errors.send(ctx, 404, "no workflow named '" + name + "'; deployed: "
                    + engine.all().stream().map(Workflow::name).toList());
            return;
        }
        if (!wf.loaded()) {
            Errors.send(ctx, 503, "workflow '" + name + "' failed to load: " + lastLine(wf.loadError())
                    + "; fix its code and deploy it again (the full error is in the node log and GET /api/v1/workflows)");
            return;
        }
        String prefix = "/workflows/" + name;
        String path = ctx.normalizedPath().length() > prefix.length() ? ctx.normalizedPath().substring(prefix.length()) : "/";
        List<Map.Entry<RoutePattern, Map<String, String>>> matches = wf.match(path);
        HttpServerRequest req = ctx.request();
        Map.Entry<RoutePattern, Map<String, String>> chosen = matches.stream()
                .filter(m -> m.getKey().method().equals(req.method().name())).findFirst().orElse(null);
        if (chosen == null) {
            if (matches.isEmpty()) {
                Errors.send(ctx, 404, "workflow '" + name + "' has no route " + path + "; its routes: "
                        + wf.routes().stream().map(r -> r.method() + " " + r.pattern()).toList());
            } else {
                TreeSet<String> allowed = new TreeSet<>();
                matches.forEach(m -> allowed.add(m.getKey().method()));
                ctx.response().putHeader("Allow", String.join(", ", allowed));
                Errors.send(ctx, 405, req.method().name() + " is not allowed on " + prefix + path + "; use " + String.join(" or ", allowed));
            }
            return;
        }
        if (metrics != null) {
            // labelled by the route's pattern, never the raw path: the series stay few whatever clients send
            long started = System.nanoTime();
            String route = chosen.getKey().method() + " " + chosen.getKey().pattern();
            ctx.addEndHandler(v -> metrics.workflowRequest(name, route, ctx.response().getStatusCode(), System.nanoTime() - started));
        }
        String body = ctx.body() == null ? null : ctx.body().asString();
        if (body != null && !body.isBlank()) {
            String type = String.valueOf(req.getHeader("content-type")).toLowerCase();
            if (!(type.startsWith("application/json") || type.contains("+json"))) {
                Errors.send(ctx, 400, "the body must be JSON sent with 'Content-Type: application/json' (got '"
                        + req.getHeader("content-type") + "')");
                return;
            }
            try {
                Json.decodeValue(body);
            } catch (DecodeException e) {
                Errors.send(ctx, 400, "malformed JSON body: " + firstLine(e.getMessage()) + "; send a valid JSON document");
                return;
            }
        } else {
            body = null;
        }
        Map<String, String> query = new LinkedHashMap<>();
        ctx.queryParams().forEach(e -> query.putIfAbsent(e.getKey(), e.getValue()));
        Map<String, String> headers = new LinkedHashMap<>();
        req.headers().forEach(e -> headers.putIfAbsent(e.getKey().toLowerCase(), e.getValue()));
        WorkflowRequest wreq = new WorkflowRequest(req.method().name(), path, query, headers, body, null);
        String policy = chosen.getKey().policy();
        if (!policy.equals("local") && !group.mayWrite()) {
            if (policy.equals("reject")) {
                refuse(ctx, "this route runs only on the primary; send it to " + group.primary() + " at " + group.primaryHttp());
            } else {
                forwarder.notPrimary(ctx, () -> run(ctx, wf, chosen, wreq, in));
            }
            return;
        }
        run(ctx, wf, chosen, wreq, in);
    }

    private void refuse(RoutingContext ctx, String message) {
        forwarder.refuse(ctx, message);
    }

    private void run(RoutingContext ctx, Workflow wf, Map.Entry<RoutePattern, Map<String, String>> chosen, WorkflowRequest wreq, long in) {
        String name = wf.name();
        var trace = new dev.tandem.metrics.WriteTrace.Request(); // recorded only when a JFR recording enables it
        trace.inNanos = in;
        wf.call(chosen.getKey(), chosen.getValue(), wreq)
                .thenCompose(resp -> {
                    trace.routedNanos = dev.tandem.metrics.WriteTrace.now();
                    return resp.lsn() == 0 ? java.util.concurrent.CompletableFuture.completedFuture(resp)
                            : durability.awaitDurable(resp.lsn()).thenApply(v -> {
                                trace.durableNanos = dev.tandem.metrics.WriteTrace.now();
                                return resp;
                            });
                })
                .whenComplete((resp, err) -> ctx.vertx().runOnContext(v -> {
                    if (err != null) {
                        unavailable(ctx, err);
                    } else {
                        answer(ctx, name, chosen.getKey(), resp, group.name());
                        if (resp.lsn() != 0 && trace.isEnabled()) {
                            trace.lsn = resp.lsn();
                            trace.outNanos = dev.tandem.metrics.WriteTrace.now();
                            trace.commit();
                        }
                    }
                }));
    }

    private static void unavailable(RoutingContext ctx, Throwable err) {
        Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
        if (cause instanceof dev.tandem.core.WriteRefused w) {
            ctx.response().putHeader("Retry-After", "1");
            Errors.send(ctx, 503, w.getMessage());
        } else if (Workflow.timedOut(cause)) {
            Errors.send(ctx, Errors.body(503, "timeout", cause.getMessage()
                    + "; if the route needs longer, raise workflows.request_timeout, or make it faster"));
        } else if (Workflow.gone(cause)) {
            ctx.response().putHeader("Retry-After", "1");
            Errors.send(ctx, 503, cause.getMessage());
        } else {
            String id = errorId();
            log.error("request {} failed [error {}]", ctx.normalizedPath(), id, cause);
            Errors.send(ctx, Errors.body(500, "internal_error", "the node failed to complete the request; see the node log for error " + id)
                    .put("error_id", id));
        }
    }

    /** The header naming the change a write committed, once it is acknowledged: "NODE term=T lsn=L". */
    static final String COMMIT = "X-Tandem-Commit";

    private static void answer(RoutingContext ctx, String workflow, RoutePattern route, WorkflowResponse resp, String node) {
        if (resp.traceback() != null) {
            String id = errorId();
            log.error("workflow {} route {} {} raised [error {}]:\n{}", workflow, route.method(), route.pattern(), id, resp.traceback().strip());
            JsonObject body = Errors.body(500, "workflow_error", "workflow '" + workflow + "' failed on " + route.method() + " "
                    + route.pattern() + "; the node log has the traceback under error " + id).put("error_id", id);
            Errors.send(ctx, body);
            return;
        }
        var response = ctx.response().setStatusCode(resp.status());
        resp.headers().forEach(response::putHeader);
        // which change this answer acknowledges, and under which primary's term: a client (or a history checker)
        // can tell two primaries apart, and find the change in the log
        response.headers().remove(COMMIT); // only the node says it; a route cannot
        if (resp.lsn() > 0) response.putHeader(COMMIT, node + " term=" + resp.term() + " lsn=" + resp.lsn());
        if (resp.body() == null) {
            response.end();
        } else {
            if (!resp.headers().keySet().stream().anyMatch(h -> h.equalsIgnoreCase("content-type"))) {
                response.putHeader("content-type", "application/json");
            }
            response.end(resp.body());
        }
    }

    static String errorId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    private static String firstLine(String s) {
        int nl = s == null ? -1 : s.indexOf('\n');
        return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
    }

    private static String lastLine(String s) {
        String t = s.strip();
        int nl = t.lastIndexOf('\n');
        return nl < 0 ? t : t.substring(nl + 1);
    }
}
