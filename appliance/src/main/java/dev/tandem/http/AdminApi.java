package dev.tandem.http;

import dev.tandem.admin.Deployments;
import dev.tandem.admin.SystemStore;
import dev.tandem.cluster.GroupMember;
import dev.tandem.events.EventLog;
import dev.tandem.workflows.Workflow;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code /api/v1}: login and users, the group and this node, planned switchover, maintenance mode,
 * workflows (list, deploy, remove). A request is allowed with {@code Authorization: Bearer <token>}
 * where the token is a login's (users and tokens live in the replicated store, so a token keeps
 * working on the other node after failover) or the group's admin token ({@code data_dir/admin.token},
 * what the CLI uses), from every address alike. Writes (login, users, deploy) happen on the
 * primary: a secondary forwards them (SPEC 5), and they are answered once replicated.
 */
final class AdminApi {

    /** What the write endpoints need; {@code system} and {@code deployments} are null on a witness. */
    record Env(GroupMember group, WorkflowEngine engine, String adminToken, EventLog events, SystemStore system,
               Deployments deployments, Durability durability, Forwarder forwarder, dev.tandem.store.Store store,
               LoginLimiter logins, HttpApi.Health health, dev.tandem.metrics.NodeMetrics metrics, boolean metricsPublic) {}

    private static int parseLimit(String text) {
        try {
            return text == null ? 100 : Math.max(1, Math.min(Integer.parseInt(text), 10_000));
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    private AdminApi() {}

    static void mount(Router router, Env env) {
        GroupMember group = env.group();
        WorkflowEngine engine = env.engine();
        EventLog events = env.events();
        router.route("/api/v1/*").handler(ctx -> {
            if (ctx.request().method() != io.vertx.core.http.HttpMethod.GET) ctx.addEndHandler(v -> audit(ctx, events));
            ctx.next();
        });
        if (env.system() == null) {
            // a witness keeps no users, tokens, workflows or data: what needs them is relayed to the primary, which
            // checks the request's token itself (the console served by a witness logs in and deploys through it)
            router.route("/api/v1/*").handler(ctx -> {
                String p = ctx.normalizedPath();
                boolean data = p.equals("/api/v1/login") || p.equals("/api/v1/logout") || p.startsWith("/api/v1/users")
                        || p.startsWith("/api/v1/workflows") || p.startsWith("/api/v1/divergent");
                if (!data || Forwarder.wasForwarded(ctx)) {
                    ctx.next();
                } else if (group.primaryHttp() == null) {
                    env.forwarder().refuse(ctx, "this node is a witness (no users, no data) and knows no primary to pass this to; "
                            + "send it to a data node");
                } else {
                    env.forwarder().forward(ctx, group.primaryHttp());
                }
            });
        }
        router.route("/api/v1/*").handler(ctx -> authorize(ctx, env));
        if (env.metrics() != null) {
            // Prometheus text; a token like every /api/v1 read (Prometheus: authorization.credentials_file), unless
            // http.metrics_public says anyone who can reach the port may read it
            router.get("/metrics").handler(ctx -> {
                if (env.metricsPublic()) ctx.next();
                else authorize(ctx, env);
            }).handler(ctx -> ctx.vertx().executeBlocking(env.metrics()::scrape, false).onSuccess(text -> ctx.response()
                    .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").putHeader("cache-control", "no-store")
                    .end(text)).onFailure(ctx::fail));
        }
        AdminWrites.mountUsers(router, env);
        AdminWrites.mountDeploy(router, env);
        router.get("/api/v1/divergent").handler(ctx -> {
            if (env.system() == null) {
                json(ctx, 200, new JsonObject().put("changes", new JsonArray()));
                return;
            }
            int limit = parseLimit(ctx.queryParams().get("limit"));
            ctx.vertx().executeBlocking(() -> env.store().replica().divergent(limit), false)
                    .onSuccess(rows -> json(ctx, 200, new JsonObject().put("changes", rows))).onFailure(ctx::fail);
        });
        var faults = group.faults();
        if (faults != null) {
            // fault tests only (-Dtandem.faults=true): cut this node off from peers, and heal
            router.post("/api/v1/faults/isolate").handler(ctx -> {
                JsonObject body = body(ctx);
                if (body == null) return;
                var names = body.getJsonArray("from", new JsonArray()).stream().map(String::valueOf).toList();
                json(ctx, 200, new JsonObject().put("isolated_from", new JsonArray(faults.isolateFrom(names))));
            });
            router.post("/api/v1/faults/heal").handler(ctx -> {
                faults.heal();
                json(ctx, 200, new JsonObject().put("healed", true));
            });
        }
        router.get("/api/v1/events").handler(ctx -> {
            long after;
            int limit;
            try {
                after = Long.parseLong(ctx.queryParams().get("after") == null ? "0" : ctx.queryParams().get("after"));
                limit = Integer.parseInt(ctx.queryParams().get("limit") == null ? "100" : ctx.queryParams().get("limit"));
            } catch (NumberFormatException e) {
                Errors.send(ctx, 400, "after and limit must be whole numbers, e.g. /api/v1/events?after=120&limit=50");
                return;
            }
            JsonArray list = events.after(after, Math.max(1, Math.min(limit, 1000)));
            long last = list.isEmpty() ? after : list.getJsonObject(list.size() - 1).getLong("id");
            json(ctx, 200, new JsonObject().put("events", list).put("last_id", last));
        });
        router.get("/api/v1/events/stream").handler(ctx -> {
            var resp = ctx.response().setChunked(true).putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-store");
            resp.write(": tandem events\n\n");
            var vertx = ctx.vertx();
            Runnable unsubscribe = events.subscribe(e -> vertx.runOnContext(v -> {
                if (!resp.ended() && !resp.closed()) {
                    resp.write("id: " + e.getLong("id") + "\nevent: " + e.getString("type") + "\ndata: " + e.encode() + "\n\n");
                }
            }));
            // a comment line now and then: proxies and the idle backstop see a live stream, and a dead client is found
            long keepAlive = vertx.setPeriodic(15_000, id -> {
                if (!resp.ended() && !resp.closed()) resp.write(": keep-alive\n\n");
            });
            resp.closeHandler(v -> {
                vertx.cancelTimer(keepAlive);
                unsubscribe.run();
            });
        });
        router.get("/api/v1/node").handler(ctx -> json(ctx, 200, nodeJson(env)));
        router.get("/api/v1/group").handler(ctx -> GroupJson.group(group).thenCompose(g -> divergentCount(ctx, env).thenApply(n -> {
            // the answering node's own entry carries its health verdicts; who answered, and when, so a reader can tell stale from fresh
            JsonArray nodes = g.getJsonArray("nodes");
            String me = node(env);
            for (int i = 0; i < nodes.size(); i++) {
                JsonObject node = nodes.getJsonObject(i);
                if (me.equals(node.getString("name"))) node.put("health", health(env)).put("lag_ms", lagMillis(env));
            }
            return g.put("divergent", n).put("seen_by", me).put("seen_at_ms", System.currentTimeMillis());
        })).whenComplete((g, err) -> ctx.vertx().runOnContext(v -> {
            if (err != null) ctx.fail(err);
            else json(ctx, 200, g);
        })));
        router.post("/api/v1/switchover").handler(ctx -> {
            JsonObject body = body(ctx);
            if (body == null) return;
            String to = body.getValue("to") instanceof String s ? s : null;
            ctx.put("audit_target", to == null ? "best secondary" : to);
            group.switchover(to).whenComplete((r, err) -> ctx.vertx().runOnContext(v -> {
                if (err != null) {
                    Errors.send(ctx, 504, "the switchover did not complete in time: " + err + "; check `tandem status`");
                } else if (r.getBoolean("ok")) {
                    json(ctx, 200, r);
                } else {
                    Errors.send(ctx, Errors.body(409, "conflict", r.getString("message")).put("primary", r.getString("primary")));
                }
            }));
        });
        router.post("/api/v1/maintenance").handler(ctx -> {
            JsonObject body = body(ctx);
            if (body == null) return;
            if (!(body.getValue("enabled") instanceof Boolean enabled)) {
                Errors.send(ctx, 400, "send {\"enabled\": true} or {\"enabled\": false}");
                return;
            }
            ctx.put("audit_target", enabled ? "on" : "off");
            group.setMaintenance(enabled).whenComplete((r, err) -> ctx.vertx().runOnContext(v -> {
                if (err != null) ctx.fail(err);
                else json(ctx, 200, new JsonObject().put("maintenance", r)
                        .put("message", r ? "automatic failover paused group-wide" : "automatic failover resumed"));
            }));
        });
        router.get("/api/v1/workflows").handler(ctx -> {
            JsonArray list = new JsonArray();
            if (engine != null) {
                java.util.Map<String, JsonObject> deployed = env.system() == null ? java.util.Map.of() : env.system().deployed();
                java.util.Map<String, String> failed = env.deployments() == null ? java.util.Map.of() : env.deployments().failures();
                for (Workflow wf : engine.all()) {
                    if (!failed.containsKey(wf.name())) list.add(describe(wf, deployed.get(wf.name())));
                }
                failed.forEach((name, error) -> list.add(failedRecord(name, deployed.get(name), error)));
            }
            json(ctx, 200, new JsonObject().put("workflows", list));
        });
    }

    private static String node(Env env) {
        return env.group().name();
    }

    /** This node's verdicts as its /health endpoints give them. */
    private static JsonObject health(Env env) {
        return new JsonObject().put("live", true).put("ready", env.health().ready().getAsBoolean())
                .put("primary", env.health().primary().getAsBoolean()).put("secondary", env.health().secondary().getAsBoolean());
    }

    /** On a secondary: how old the newest applied change was when it was applied (0 on the primary and the witness). */
    private static long lagMillis(Env env) {
        JsonObject r = env.group().replicationInfo();
        return r == null || env.group().role() == dev.tandem.api.NodeRole.PRIMARY ? 0 : r.getLong("lag_ms", 0L);
    }

    static JsonObject nodeJson(Env env) {
        return GroupJson.node(env.group()).put("health", health(env)).put("lag_ms", lagMillis(env));
    }

    private static java.util.concurrent.CompletableFuture<Long> divergentCount(RoutingContext ctx, Env env) {
        if (env.store() == null) return java.util.concurrent.CompletableFuture.completedFuture(0L);
        return ctx.vertx().executeBlocking(() -> env.store().replica().divergentCount(), false).toCompletionStage().toCompletableFuture();
    }

    /**
     * Every /api/v1 request but login needs a valid token, from every address: a login's, or the
     * group's admin token. Where a request comes from (loopback, a peer that forwarded it) earns nothing.
     */
    private static void authorize(RoutingContext ctx, Env env) {
        if (ctx.normalizedPath().equals("/api/v1/login")) {
            ctx.next();
            return;
        }
        String token = bearer(ctx);
        if (token == null || token.isEmpty()) {
            unauthorized(ctx, "log in: POST /api/v1/login {\"user\", \"password\"}, then send 'Authorization: Bearer <token>' "
                    + "(the CLI uses the group's admin token from data_dir/admin.token)");
        } else if (MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), env.adminToken().getBytes(StandardCharsets.UTF_8))) {
            ctx.put("user", "admin-token");
            ctx.next();
        } else if (env.system() != null && token.length() <= 256) {
            ctx.vertx().executeBlocking(() -> env.system().userOfToken(token), false).onComplete(r -> {
                if (r.succeeded() && r.result() != null) {
                    ctx.put("user", r.result());
                    ctx.next();
                } else {
                    unauthorized(ctx, "the token is unknown or expired; log in again with POST /api/v1/login");
                }
            });
        } else if (env.system() == null && token.length() <= 256) {
            // a witness: the primary says whose token it is
            env.forwarder().userOf(token).whenComplete((user, err) -> ctx.vertx().runOnContext(v -> {
                if (user != null) {
                    ctx.put("user", user);
                    ctx.next();
                } else {
                    unauthorized(ctx, "the token is unknown or expired (this witness asked the primary"
                            + (env.group().primary() == null ? ", but knows none now" : " " + env.group().primary()) + "); log in again");
                }
            }));
        } else {
            unauthorized(ctx, "the token is unknown or expired; log in again with POST /api/v1/login");
        }
    }

    /** The client's address as this node sees it. */
    static String remote(RoutingContext ctx) {
        return ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    }

    /**
     * Operator actions (everything under /api/v1 but reads) are AUDIT events: what, who, from where,
     * the outcome. Never a password or token: the login's user name, the target's name, at most.
     */
    private static void audit(RoutingContext ctx, EventLog events) {
        String path = ctx.normalizedPath(), method = ctx.request().method().name();
        String action = path.startsWith("/api/v1/login") ? "login" : path.startsWith("/api/v1/logout") ? "logout"
                : path.startsWith("/api/v1/users") ? (method.equals("DELETE") ? "user.remove" : "user.set")
                : path.startsWith("/api/v1/workflows") ? (method.equals("DELETE") ? "workflow.remove" : "workflow.deploy")
                : path.startsWith("/api/v1/switchover") ? "switchover" : path.startsWith("/api/v1/maintenance") ? "maintenance"
                : method + " " + Errors.clip(path, 100);
        int status = ctx.response().getStatusCode();
        String user = ctx.get("user") instanceof String u ? u : null;
        JsonObject e = new JsonObject().put("action", action).put("user", user).put("from", remote(ctx)).put("status", status)
                .put("outcome", status < 300 ? "ok" : status == 401 || status == 403 ? "denied" : status == 429 ? "throttled" : "failed");
        if (ctx.get("audit_target") instanceof String t) e.put("target", Errors.clip(t, 100));
        if (Forwarder.wasForwarded(ctx)) e.put("forwarded_by", Errors.clip(ctx.request().getHeader(Forwarder.FORWARDED_BY), 64));
        if (ctx.response().headers().contains(Forwarder.FORWARDED_BY)) e.put("answered_by", "primary (forwarded)");
        events.append("AUDIT", e);
        org.slf4j.LoggerFactory.getLogger("dev.tandem.audit").info("{} by {} from {}: {} ({})", action, user == null ? "-" : user,
                e.getString("from"), e.getString("outcome"), status);
    }

    /** The token of an {@code Authorization: Bearer} header, or null. */
    static String bearer(RoutingContext ctx) {
        String auth = ctx.request().getHeader("Authorization");
        return auth != null && auth.startsWith("Bearer ") ? auth.substring(7).strip() : null;
    }

    private static void unauthorized(RoutingContext ctx, String message) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        Errors.send(ctx, 401, message);
    }

    /** A deployed record this node could not apply (it serves nothing under that name until a new deploy). */
    static JsonObject failedRecord(String name, JsonObject deployment, String error) {
        JsonObject o = new JsonObject().put("name", dev.tandem.admin.WorkflowBundle.printable(name)).put("state", "failed")
                .put("error", error == null ? "not loaded on this node" : error).put("routes", new JsonArray()).put("source", "deployed");
        if (deployment != null) {
            o.put("sha256", deployment.getString("sha256")).put("deployed_at", deployment.getLong("deployed_at"))
                    .put("deployed_by", deployment.getString("deployed_by"));
        }
        return o;
    }

    static JsonObject describe(Workflow wf, JsonObject deployment) {
        JsonObject o = new JsonObject().put("name", wf.name()).put("state", wf.loaded() ? "loaded" : "failed")
                .put("error", wf.loadError())
                .put("routes", new JsonArray(wf.routes().stream().map(r -> r.method() + " " + r.pattern()).toList()))
                .put("source", deployment != null && wf.dir().endsWith(java.nio.file.Path.of("deployed", wf.name())) ? "deployed" : "local");
        if (deployment != null) {
            o.put("sha256", deployment.getString("sha256")).put("deployed_at", deployment.getLong("deployed_at"))
                    .put("deployed_by", deployment.getString("deployed_by"));
        }
        return o;
    }

    static JsonObject body(RoutingContext ctx) {
        String text = ctx.body() == null ? null : ctx.body().asString();
        if (text == null || text.isBlank()) return new JsonObject();
        String type = String.valueOf(ctx.request().getHeader("content-type")).toLowerCase(java.util.Locale.ROOT);
        if (!(type.startsWith("application/json") || type.contains("+json"))) {
            Errors.send(ctx, 400, "send the body as JSON with 'Content-Type: application/json' (got '"
                    + Errors.clip(ctx.request().getHeader("content-type"), 100) + "')");
            return null;
        }
        try {
            return new JsonObject(text);
        } catch (DecodeException | ClassCastException e) {
            Errors.send(ctx, 400, "malformed JSON body: send a JSON object");
            return null;
        }
    }

    static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
    }
}
