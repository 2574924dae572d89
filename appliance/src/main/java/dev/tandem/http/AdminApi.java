package dev.tandem.http;

import dev.tandem.admin.Deployments;
import dev.tandem.admin.SystemStore;
import dev.tandem.admin.WorkflowBundle;
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
 * {@code /api/v1}: login and users, the group and this node, planned switchover, maintenance mode,
 * workflows (list, deploy, remove). A request is allowed with {@code Authorization: Bearer <token>}
 * where the token is a login's (users and tokens live in the replicated store, so a token keeps
 * working on the other node after failover) or the group's admin token ({@code data_dir/admin.token},
 * what the CLI uses); from loopback, for now, without one. Writes (login, users, deploy) happen on the
 * primary: a secondary forwards them (SPEC 5), and they are answered once replicated.
 */
final class AdminApi {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminApi.class);

    /** What the write endpoints need; {@code system} and {@code deployments} are null on a witness. */
    record Env(GroupMember group, WorkflowEngine engine, String adminToken, EventLog events, SystemStore system,
               Deployments deployments, Durability durability, Forwarder forwarder, long failoverWaitMs, dev.tandem.store.Store store) {}

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
        router.route("/api/v1/*").handler(ctx -> authorize(ctx, env));
        mountUsers(router, env);
        mountDeploy(router, env);
        router.get("/api/v1/divergent").handler(ctx -> {
            if (env.system() == null) {
                json(ctx, 200, new JsonObject().put("changes", new JsonArray()));
                return;
            }
            int limit = parseLimit(ctx.queryParams().get("limit"));
            ctx.vertx().executeBlocking(() -> env.store().replica().divergent(limit), false)
                    .onSuccess(rows -> json(ctx, 200, new JsonObject().put("changes", rows))).onFailure(ctx::fail);
        });
        if (group.faultInjection()) {
            // fault tests only (-Dtandem.faults=true): cut this node off from peers, and heal
            router.post("/api/v1/faults/isolate").handler(ctx -> {
                JsonObject body = body(ctx);
                if (body == null) return;
                var names = body.getJsonArray("from", new JsonArray()).stream().map(String::valueOf).toList();
                json(ctx, 200, new JsonObject().put("isolated_from", new JsonArray(group.isolateFrom(names))));
            });
            router.post("/api/v1/faults/heal").handler(ctx -> json(ctx, 200, new JsonObject().put("healed", group.heal())));
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
                java.util.Map<String, JsonObject> deployed = env.system() == null ? java.util.Map.of() : env.system().deployed();
                for (Workflow wf : engine.all()) list.add(describe(wf, deployed.get(wf.name())));
            }
            json(ctx, 200, new JsonObject().put("workflows", list));
        });
    }

    private static void authorize(RoutingContext ctx, Env env) {
        if (ctx.normalizedPath().equals("/api/v1/login")) {
            ctx.next();
            return;
        }
        String remote = ctx.request().remoteAddress() == null ? "" : ctx.request().remoteAddress().hostAddress();
        boolean loopback = remote.startsWith("127.") || remote.equals("0:0:0:0:0:0:0:1") || remote.equals("::1");
        String auth = ctx.request().getHeader("Authorization");
        String token = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).strip() : null;
        if (token != null && MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), env.adminToken().getBytes(StandardCharsets.UTF_8))) {
            ctx.put("user", "admin-token");
            ctx.next();
        } else if (token != null && env.system() != null) {
            ctx.vertx().executeBlocking(() -> env.system().userOfToken(token), false).onComplete(r -> {
                if (r.succeeded() && r.result() != null) {
                    ctx.put("user", r.result());
                    ctx.next();
                } else { // a token that is presented must be good, from loopback too
                    unauthorized(ctx, "the token is unknown or expired; log in again with POST /api/v1/login");
                }
            });
        } else if (loopback) {
            ctx.next();
        } else {
            unauthorized(ctx, "log in: POST /api/v1/login {\"user\", \"password\"}, then send 'Authorization: Bearer <token>' "
                    + "(or the group's admin token from data_dir/admin.token)");
        }
    }

    private static void unauthorized(RoutingContext ctx, String message) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        Errors.send(ctx, 401, message);
    }

    private static JsonObject describe(Workflow wf, JsonObject deployment) {
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

    /** What a write endpoint did: the answer, and the LSN to wait for before giving it (0: nothing written). */
    record Written(int status, JsonObject body, long lsn) {}

    /**
     * Runs {@code work} (blocking: JDBC, password hashing) on the primary and answers once its write is
     * replicated; on a secondary forwards to the primary (holding while a failover is in progress), or
     * refuses with 503 and the primary's address.
     */
    private static void onPrimary(RoutingContext ctx, Env env, java.util.concurrent.Callable<Written> work) {
        if (env.system() == null) {
            Errors.send(ctx, 503, "this node is a witness: it holds no data; send this to a data node");
            return;
        }
        if (env.group().mayWrite()) {
            ctx.vertx().executeBlocking(work, false)
                    .onSuccess(w -> {
                        var durable = w.lsn() == 0 ? java.util.concurrent.CompletableFuture.<Void>completedFuture(null)
                                : env.durability().awaitDurable(w.lsn());
                        durable.whenComplete((v, err) -> ctx.vertx().runOnContext(x -> {
                            if (err != null) {
                                Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
                                env.forwarder().refuse(ctx, c.getMessage());
                            } else if (w.status() == 204) {
                                ctx.response().setStatusCode(204).end();
                            } else {
                                json(ctx, w.status(), w.body());
                            }
                        }));
                    })
                    .onFailure(e -> {
                        if (e instanceof IllegalArgumentException) {
                            Errors.send(ctx, 400, e.getMessage());
                        } else if (e instanceof dev.tandem.store.WriteRefusedException || e instanceof WriteRefusedException) {
                            env.forwarder().refuse(ctx, e.getMessage());
                        } else {
                            String id = WorkflowRoutes.errorId();
                            log.error("{} {} failed [error {}]", ctx.request().method(), ctx.normalizedPath(), id, e);
                            Errors.send(ctx, 500, "the node failed to complete the request; see the node log for error " + id);
                        }
                    });
            return;
        }
        if (Forwarder.wasForwarded(ctx)) {
            env.forwarder().refuse(ctx, "this node is not the primary either; it was forwarded here by " + ctx.request().getHeader(Forwarder.FORWARDED_BY));
            return;
        }
        env.group().awaitPrimary(env.failoverWaitMs()).whenComplete((v, err) -> ctx.vertx().runOnContext(x -> {
            if (err != null) {
                env.forwarder().refuse(ctx, "no primary: " + (err.getCause() != null ? err.getCause().getMessage() : err.getMessage()));
            } else if (env.group().mayWrite()) {
                onPrimary(ctx, env, work);
            } else if (env.group().primaryHttp() != null) {
                env.forwarder().forward(ctx, env.group().primaryHttp());
            } else {
                env.forwarder().refuse(ctx, "this node is not the primary; send this to the primary");
            }
        }));
    }

    private static void mountUsers(Router router, Env env) {
        router.post("/api/v1/login").handler(ctx -> {
            JsonObject body = body(ctx);
            if (body == null) return;
            if (!(body.getValue("user") instanceof String user) || !(body.getValue("password") instanceof String password)) {
                Errors.send(ctx, 400, "send {\"user\": \"...\", \"password\": \"...\"}");
                return;
            }
            onPrimary(ctx, env, () -> {
                SystemStore.Login login = env.system().login(user, password);
                if (login == null) {
                    return new Written(401, Errors.body(401, "unauthorized", "wrong user or password"), 0);
                }
                return new Written(200, new JsonObject().put("token", login.token()).put("user", login.user())
                        .put("expires_at", login.expiresAtMillis()), login.lsn());
            });
        });
        router.post("/api/v1/logout").handler(ctx -> {
            String auth = ctx.request().getHeader("Authorization");
            String token = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).strip() : "";
            onPrimary(ctx, env, () -> new Written(204, null, env.system().logout(token)));
        });
        router.get("/api/v1/whoami").handler(ctx -> json(ctx, 200, new JsonObject().put("user", (String) ctx.get("user"))
                .put("via", ctx.get("user") == null ? "loopback" : ctx.get("user").equals("admin-token") ? "admin token" : "login")));
        router.get("/api/v1/users").handler(ctx -> {
            if (env.system() == null) {
                json(ctx, 200, new JsonObject().put("users", new JsonArray()));
                return;
            }
            ctx.vertx().executeBlocking(() -> env.system().users(), false)
                    .onSuccess(u -> json(ctx, 200, new JsonObject().put("users", u))).onFailure(ctx::fail);
        });
        router.post("/api/v1/users").handler(ctx -> {
            JsonObject body = body(ctx);
            if (body == null) return;
            if (!(body.getValue("user") instanceof String user) || !(body.getValue("password") instanceof String password)) {
                Errors.send(ctx, 400, "send {\"user\": \"...\", \"password\": \"at least 8 characters\"}");
                return;
            }
            onPrimary(ctx, env, () -> new Written(201, new JsonObject().put("user", user), env.system().putUser(user, password)));
        });
        router.delete("/api/v1/users/:name").handler(ctx -> {
            String name = ctx.pathParam("name");
            onPrimary(ctx, env, () -> {
                long lsn = env.system().deleteUser(name);
                return lsn == 0 ? new Written(404, Errors.body(404, "not_found", "no user named '" + name + "'"), 0) : new Written(204, null, lsn);
            });
        });
    }

    /** On a worker thread: waits until {@code lsn} is as durable as the mode promises, or throws. */
    private static void awaitDurable(Env env, long lsn) throws Exception {
        try {
            env.durability().awaitDurable(lsn).get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception c ? c : e;
        }
    }

    private static void mountDeploy(Router router, Env env) {
        router.post("/api/v1/workflows").handler(ctx -> {
            String name = ctx.queryParams().get("name");
            if (name == null || !WorkflowEngine.NAME.matcher(name).matches()) {
                Errors.send(ctx, 400, "name the workflow: POST /api/v1/workflows?name=myflow with the zipped folder as the body "
                        + "(1-63 of a-z, 0-9, '_', '-', starting with a letter)");
                return;
            }
            byte[] zip = ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
            try {
                WorkflowBundle.check(zip);
            } catch (WorkflowBundle.BadBundleException e) {
                Errors.send(ctx, 400, e.getMessage());
                return;
            }
            String by = ctx.get("user") instanceof String u ? u : "loopback";
            onPrimary(ctx, env, () -> {
                awaitDurable(env, env.system().deploy(name, zip, by));
                env.deployments().reconcile(); // load it here before answering; the secondary does on apply
                Workflow wf = env.engine().get(name);
                return new Written(201, describe(wf, env.system().deployed().get(name)), 0);
            });
        });
        router.delete("/api/v1/workflows/:name").handler(ctx -> {
            String name = ctx.pathParam("name");
            onPrimary(ctx, env, () -> {
                long lsn = env.system().undeploy(name);
                if (lsn == 0) {
                    return new Written(404, Errors.body(404, "not_found", "no deployed workflow named '" + name + "'"
                            + (env.engine().get(name) != null ? " (this one comes from workflows.dir on this node; remove its folder there)" : "")), 0);
                }
                awaitDurable(env, lsn);
                env.deployments().reconcile();
                return new Written(204, null, 0);
            });
        });
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
