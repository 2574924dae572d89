package dev.tandem.http;

import dev.tandem.admin.SystemStore;
import dev.tandem.admin.WorkflowBundle;
import dev.tandem.workflows.Workflow;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The admin endpoints that write to the group's own records (login, users, deploy): they run on the
 * primary, off the event loop, and answer once the change is replicated; a secondary forwards them.
 */
final class AdminWrites {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminWrites.class);
    private AdminWrites() {}

    /** What a write endpoint did: the answer, and the LSN to wait for before giving it (0: nothing written). */
    record Written(int status, JsonObject body, long lsn) {}

    /**
     * Runs {@code work} (blocking: JDBC, password hashing) on the primary and answers once its write is
     * replicated; on a secondary forwards to the primary (holding while a failover is in progress), or
     * refuses with 503 and the primary's address.
     */
    private static void onPrimary(RoutingContext ctx, AdminApi.Env env, java.util.concurrent.Callable<Written> work) {
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
                                AdminApi.json(ctx, w.status(), w.body());
                            }
                        }));
                    })
                    .onFailure(e -> {
                        if (e instanceof IllegalArgumentException) {
                            Errors.send(ctx, 400, e.getMessage());
                        } else if (e instanceof dev.tandem.core.WriteRefused) {
                            env.forwarder().refuse(ctx, e.getMessage());
                        } else {
                            String id = WorkflowRoutes.errorId();
                            log.error("{} {} failed [error {}]", ctx.request().method(), ctx.normalizedPath(), id, e);
                            Errors.send(ctx, 500, "the node failed to complete the request; see the node log for error " + id);
                        }
                    });
            return;
        }
        env.forwarder().notPrimary(ctx, () -> onPrimary(ctx, env, work));
    }

    /** {user, password} from a JSON body; null after answering 400 when they are not both strings. */
    private static String[] credentials(RoutingContext ctx, String passwordHint) {
        JsonObject body = AdminApi.body(ctx);
        if (body == null) return null;
        if (!(body.getValue("user") instanceof String user) || !(body.getValue("password") instanceof String password)) {
            Errors.send(ctx, 400, "send {\"user\": \"...\", \"password\": \"" + passwordHint + "\"}");
            return null;
        }
        return new String[] {user, password};
    }

    static void mountUsers(Router router, AdminApi.Env env) {
        router.post("/api/v1/login").handler(ctx -> {
            String[] c = credentials(ctx, "...");
            if (c == null) return;
            ctx.put("audit_target", c[0]);
            String from = AdminApi.remote(ctx), who = Errors.clip(c[0], 64);
            long wait = env.logins().admit(who, from);
            if (wait > 0) {
                long seconds = Math.max(1, (wait + 999) / 1000);
                ctx.response().putHeader("Retry-After", String.valueOf(seconds));
                Errors.send(ctx, 429, "too many login attempts for this user or from this address; wait " + seconds + " s and try again");
                return;
            }
            ctx.addEndHandler(v -> {
                if (ctx.response().getStatusCode() == 200) env.logins().succeeded(who, from);
            });
            onPrimary(ctx, env, () -> {
                SystemStore.Login login = env.system().login(c[0], c[1]);
                if (login == null) {
                    return new Written(401, Errors.body(401, "unauthorized", "wrong user or password"), 0);
                }
                return new Written(200, new JsonObject().put("token", login.token()).put("user", login.user())
                        .put("expires_at", login.expiresAtMillis()), login.lsn());
            });
        });
        router.post("/api/v1/logout").handler(ctx -> {
            String token = AdminApi.bearer(ctx);
            onPrimary(ctx, env, () -> new Written(204, null, token == null ? 0 : env.system().logout(token)));
        });
        router.get("/api/v1/whoami").handler(ctx -> AdminApi.json(ctx, 200, new JsonObject().put("user", (String) ctx.get("user"))
                .put("via", "admin-token".equals(ctx.get("user")) ? "admin token" : "login")));
        router.get("/api/v1/users").handler(ctx -> {
            if (env.system() == null) {
                AdminApi.json(ctx, 200, new JsonObject().put("users", new JsonArray()));
                return;
            }
            ctx.vertx().executeBlocking(() -> env.system().users(), false)
                    .onSuccess(u -> AdminApi.json(ctx, 200, new JsonObject().put("users", u))).onFailure(ctx::fail);
        });
        router.post("/api/v1/users").handler(ctx -> {
            String[] c = credentials(ctx, "at least 8 characters");
            if (c == null) return;
            ctx.put("audit_target", c[0]);
            onPrimary(ctx, env, () -> new Written(201, new JsonObject().put("user", c[0]), env.system().putUser(c[0], c[1])));
        });
        router.delete("/api/v1/users/:name").handler(ctx -> {
            String name = ctx.pathParam("name");
            ctx.put("audit_target", name);
            onPrimary(ctx, env, () -> {
                long lsn = env.system().deleteUser(name);
                return lsn == 0 ? new Written(404, Errors.body(404, "not_found", "no user named '" + name + "'"), 0) : new Written(204, null, lsn);
            });
        });
    }

    /** On a worker thread: waits until {@code lsn} is as durable as the mode promises, or throws. */
    private static void awaitDurable(AdminApi.Env env, long lsn) throws Exception {
        try {
            env.durability().awaitDurable(lsn).get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception c ? c : e;
        }
    }

    static void mountDeploy(Router router, AdminApi.Env env) {
        router.post("/api/v1/workflows").handler(ctx -> {
            String name = ctx.queryParams().get("name");
            if (name == null || !WorkflowEngine.NAME.matcher(name).matches()) {
                Errors.send(ctx, 400, "name the workflow: POST /api/v1/workflows?name=myflow with the zipped folder as the body "
                        + "(1-63 of a-z, 0-9, '_', '-', starting with a letter)");
                return;
            }
            ctx.put("audit_target", name);
            byte[] zip = ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
            String by = ctx.get("user") instanceof String u ? u : "unknown";
            onPrimary(ctx, env, () -> {
                try {
                    WorkflowBundle.check(zip); // unzipping is work: off the event loop, like the rest
                } catch (WorkflowBundle.BadBundleException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
                awaitDurable(env, env.system().deploy(name, zip, by));
                env.deployments().reconcile(); // load it here before answering; the secondary does on apply
                Workflow wf = env.engine().get(name);
                String failed = env.deployments().failure(name);
                JsonObject record = env.system().deployed().get(name);
                return new Written(201, failed != null || wf == null ? AdminApi.failedRecord(name, record, failed)
                        : AdminApi.describe(wf, record), 0);
            });
        });
        router.delete("/api/v1/workflows/:name").handler(ctx -> {
            String name = ctx.pathParam("name");
            ctx.put("audit_target", name);
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

}
