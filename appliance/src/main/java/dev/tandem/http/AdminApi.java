package dev.tandem.http;

import dev.tandem.cluster.GroupMember;
import dev.tandem.node.EventLog;
import dev.tandem.workflows.Workflow;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;

/**
 * {@code /api/v1}: the group and this node, planned switchover, maintenance mode, workflows.
 * Until the admin issue adds users and logins, a request must come from loopback or carry
 * {@code Authorization: Bearer <data_dir/admin.token>}.
 */
final class AdminApi {
    private AdminApi() {}

    static void mount(Router router, GroupMember group, WorkflowEngine engine, String adminToken, EventLog events) {
        router.route("/api/v1/*").handler(ctx -> authorize(ctx, adminToken));
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
            resp.closeHandler(v -> unsubscribe.run());
        });
        router.get("/api/v1/node").handler(ctx -> json(ctx, 200, group.nodeJson()));
        router.get("/api/v1/group").handler(ctx -> group.groupJson().whenComplete((g, err) -> ctx.vertx().runOnContext(v -> {
            if (err != null) ctx.fail(err);
            else json(ctx, 200, g);
        })));
        router.post("/api/v1/switchover").handler(ctx -> {
            JsonObject body = body(ctx);
            if (body == null) return;
            String to = body.getValue("to") instanceof String s ? s : null;
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
            group.setMaintenance(enabled).whenComplete((r, err) -> ctx.vertx().runOnContext(v -> {
                if (err != null) ctx.fail(err);
                else json(ctx, 200, new JsonObject().put("maintenance", r)
                        .put("message", r ? "automatic failover paused group-wide" : "automatic failover resumed"));
            }));
        });
        router.get("/api/v1/workflows").handler(ctx -> {
            JsonArray list = new JsonArray();
            if (engine != null) {
                for (Workflow wf : engine.all()) {
                    list.add(new JsonObject().put("name", wf.name()).put("state", wf.loaded() ? "loaded" : "failed")
                            .put("error", wf.loadError())
                            .put("routes", new JsonArray(wf.routes().stream().map(r -> r.method() + " " + r.pattern()).toList())));
                }
            }
            json(ctx, 200, new JsonObject().put("workflows", list));
        });
    }

    private static void authorize(RoutingContext ctx, String adminToken) {
        String remote = ctx.request().remoteAddress() == null ? "" : ctx.request().remoteAddress().hostAddress();
        boolean loopback = remote.startsWith("127.") || remote.equals("0:0:0:0:0:0:0:1") || remote.equals("::1");
        String auth = ctx.request().getHeader("Authorization");
        boolean tokenOk = auth != null && auth.startsWith("Bearer ")
                && MessageDigest.isEqual(auth.substring(7).strip().getBytes(StandardCharsets.UTF_8), adminToken.getBytes(StandardCharsets.UTF_8));
        if (loopback || tokenOk) {
            ctx.next();
        } else {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            Errors.send(ctx, 401, "log in: send 'Authorization: Bearer <token>' with the token from the node's data_dir/admin.token");
        }
    }

    private static JsonObject body(RoutingContext ctx) {
        String text = ctx.body() == null ? null : ctx.body().asString();
        if (text == null || text.isBlank()) return new JsonObject();
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
