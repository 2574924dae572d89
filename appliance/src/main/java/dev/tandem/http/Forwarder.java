package dev.tandem.http;

import dev.tandem.cluster.GroupMember;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;

/**
 * Passes a request a secondary cannot serve to the primary and relays the answer (workflow writes,
 * admin writes such as login and deploy), or refuses it with 503, Retry-After and X-Tandem-Primary.
 * A forwarded request carries {@code X-Tandem-Forwarded-By} and is never forwarded again. A forward whose
 * primary leaves the group (frozen, cut off) or stops being primary is not left to hang until its timeout:
 * it is answered at once with 504, outcome unknown.
 */
final class Forwarder {
    static final String FORWARDED_BY = "X-Tandem-Forwarded-By";
    private final GroupMember group;
    private final String nodeName;
    private final HttpClient client;
    private final boolean forwardToPrimary;
    private final long holdMs;
    /** Forwards under way: each is cut short when the primary it went to leaves the group or stops being primary. */
    private final java.util.Set<InFlight> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static final class InFlight {
        final String primary;
        final io.vertx.core.Context context;
        volatile HttpClientRequest request;
        /** Why it was cut short ("left the group", "is no longer the primary"); null while it may still be answered. */
        volatile String abandoned;

        InFlight(String primary, io.vertx.core.Context context) {
            this.primary = primary;
            this.context = context;
        }
    }

    /** @param holdMs how long a write on a node that is not primary waits for a primary (failure_timeout + 2 s) */
    Forwarder(Vertx vertx, GroupMember group, String nodeName, dev.tandem.config.TandemConfig.Http http, long holdMs) {
        this.group = group;
        this.nodeName = nodeName;
        this.forwardToPrimary = http.forwardToPrimary();
        this.holdMs = holdMs;
        // keep-alive shorter than the peer's http.client_timeout, so this side closes an idle connection first
        this.client = vertx.createHttpClient(Tls.client(new HttpClientOptions().setKeepAlive(true)
                .setKeepAliveTimeout((int) Math.max(1, http.clientTimeout().toSeconds() / 2)).setConnectTimeout(1000), http),
                new PoolOptions().setHttp1MaxSize(64));
        group.addListener(new GroupMember.Listener() {
            @Override
            public void roleChanged(dev.tandem.api.NodeRole previous, dev.tandem.api.NodeRole now, long term, String reason, long tookMillis) {
                abandonStale();
            }

            @Override
            public void event(dev.tandem.api.EventId id, io.vertx.core.json.JsonObject data) {
                abandonStale();
            }
        });
    }

    /**
     * Cuts short each forward whose primary is no longer in the view or no longer the primary: it may have frozen
     * or been cut off with the request, and the connection would stay silent until the forward's timeout.
     */
    private void abandonStale() {
        java.util.List<String> view = group.view();
        String primary = group.primary();
        for (InFlight f : inFlight) {
            if (f.abandoned != null || (view.contains(f.primary) && f.primary.equals(primary))) continue;
            f.abandoned = !view.contains(f.primary) ? "left the group" : "is no longer the primary";
            HttpClientRequest r = f.request;
            if (r != null) f.context.runOnContext(v -> r.reset());
        }
    }

    static boolean wasForwarded(RoutingContext ctx) {
        return ctx.request().getHeader(FORWARDED_BY) != null;
    }

    /**
     * The one answer to a write on a node that is not primary (SPEC 5), for workflow routes and admin writes
     * alike: a request forwarded here already is refused (never forwarded twice); any other is held while a
     * failover is in progress (up to failure_timeout + 2 s), then run here if this node became primary,
     * forwarded to the primary if {@code http.forward_to_primary} allows, or refused with 503, Retry-After and
     * X-Tandem-Primary. {@code runHere} runs on the request's context.
     */
    void notPrimary(RoutingContext ctx, Runnable runHere) {
        if (wasForwarded(ctx)) {
            refuse(ctx, "this node (" + nodeName + ") is not the primary either; it was forwarded here by " + ctx.request().getHeader(FORWARDED_BY));
            return;
        }
        group.awaitPrimary(holdMs).whenComplete((v, err) -> ctx.vertx().runOnContext(x -> {
            if (err != null) {
                refuse(ctx, "no primary: " + (err.getCause() != null ? err.getCause().getMessage() : err.getMessage()));
            } else if (group.mayWrite()) {
                runHere.run();
            } else if (forwardToPrimary && group.primaryHttp() != null) {
                forward(ctx, group.primaryHttp());
            } else {
                refuse(ctx, "this node is not the primary; send writes to " + group.primary() + " at " + group.primaryHttp());
            }
        }));
    }

    void refuse(RoutingContext ctx, String message) {
        ctx.response().putHeader("Retry-After", "1");
        if (group.primary() != null) ctx.response().putHeader("X-Tandem-Primary", group.primary() + " " + group.primaryHttp());
        Errors.send(ctx, 503, message);
    }

    /** Headers that describe one hop's connection, not the request (RFC 9110 7.6.1), and ours. */
    private static final java.util.Set<String> HOP = java.util.Set.of("host", "content-length", "connection", "transfer-encoding",
            "keep-alive", "te", "trailer", "upgrade", "proxy-connection", "proxy-authorization", "expect", FORWARDED_BY.toLowerCase());

    /**
     * The primary's base URL as the group announced it ({@code http[s]://host:port}), checked: no path,
     * user or query may ride along. Null when it is not such a URL.
     */
    static java.net.URI primaryBase(String url) {
        try {
            java.net.URI u = new java.net.URI(url);
            boolean ok = ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null && u.getPort() > 0
                    && u.getRawUserInfo() == null && (u.getRawPath() == null || u.getRawPath().isEmpty()) && u.getRawQuery() == null
                    && u.getRawFragment() == null;
            return ok ? u : null;
        } catch (java.net.URISyntaxException | NullPointerException e) {
            return null;
        }
    }

    /** A request to {@code uri} (path and query) at a checked base URL ({@link #primaryBase}). */
    private static RequestOptions to(java.net.URI base, io.vertx.core.http.HttpMethod method, String uri, long timeoutMs) {
        return new RequestOptions().setMethod(method).setSsl("https".equals(base.getScheme())).setHost(base.getHost())
                .setPort(base.getPort()).setURI(uri).setTimeout(timeoutMs);
    }

    /**
     * Sends the request to the primary and relays the answer. The target is built from the primary's
     * announced address plus this request's normalised path and query, never from the raw request target,
     * so no request can be steered to another host; every outcome ends in an answer.
     */
    void forward(RoutingContext ctx, String primaryUrl) {
        try {
            forward0(ctx, primaryUrl);
        } catch (RuntimeException e) {
            refuse(ctx, "could not forward to the primary at " + primaryUrl + ": " + Errors.clip(String.valueOf(e.getMessage()), 200));
        }
    }

    private void forward0(RoutingContext ctx, String primaryUrl) {
        HttpServerRequest in = ctx.request();
        java.net.URI base = primaryBase(primaryUrl);
        if (base == null) {
            refuse(ctx, "the primary announced an unusable address (" + Errors.clip(String.valueOf(primaryUrl), 100) + "); send this to the primary directly");
            return;
        }
        String path = ctx.normalizedPath();
        if (path == null || !path.startsWith("/")) {
            Errors.send(ctx, 400, "the request target must be a path (origin-form)");
            return;
        }
        String query = in.query();
        RequestOptions opts = to(base, in.method(), query == null ? path : path + "?" + query, 30_000);
        in.headers().forEach(h -> {
            if (!HOP.contains(h.getKey().toLowerCase())) opts.addHeader(h.getKey(), h.getValue());
        });
        opts.addHeader(FORWARDED_BY, nodeName);
        InFlight mine = new InFlight(String.valueOf(group.primary()), ctx.vertx().getOrCreateContext());
        inFlight.add(mine);
        client.request(opts)
                .compose(r -> {
                    mine.request = r;
                    if (mine.abandoned != null) r.reset(); // the primary changed while the connection was made
                    return ctx.body() == null || ctx.body().buffer() == null ? r.send() : r.send(ctx.body().buffer());
                })
                .compose(resp -> resp.body().map(b -> {
                    var out = ctx.response().setStatusCode(resp.statusCode());
                    resp.headers().forEach(h -> {
                        String n = h.getKey().toLowerCase();
                        if (!HOP.contains(n)) out.putHeader(h.getKey(), h.getValue());
                    });
                    out.putHeader(FORWARDED_BY, nodeName);
                    out.end(b);
                    return b;
                }))
                .onComplete(x -> inFlight.remove(mine))
                .onFailure(e -> {
                    if (mine.abandoned == null) {
                        refuse(ctx, "could not forward to the primary at " + primaryUrl + ": " + e.getMessage());
                    } else if (!ctx.response().headWritten()) {
                        // it may have been applied there before it went silent: not a refusal, and not to be retried blindly
                        Errors.send(ctx, 504, "forwarded to the primary " + mine.primary + ", which " + mine.abandoned
                                + " before it answered: whether the request was applied is unknown; check before you retry");
                    }
                });
    }

    /** Tokens a data node vouched for, on a witness: digest -> (user, valid until, nanoTime). Bounded. */
    private final java.util.Map<String, Object[]> vouched = new java.util.concurrent.ConcurrentHashMap<>();
    private static final long VOUCH_NANOS = 30_000_000_000L, REFUSED_NANOS = 5_000_000_000L;

    /**
     * On a witness (which keeps no users or tokens): asks the primary who {@code token} belongs to
     * ({@code GET /api/v1/whoami}); completes with the user, or null when the primary refused it or none
     * answered. An answer is remembered for 30 s (a refusal for 5 s), so a console polling the witness
     * costs the primary one check per token and half-minute.
     */
    java.util.concurrent.CompletableFuture<String> userOf(String token) {
        String key = dev.tandem.admin.Passwords.tokenId(token);
        Object[] known = vouched.get(key);
        long now = System.nanoTime();
        if (known != null && now - (long) known[1] < 0) return java.util.concurrent.CompletableFuture.completedFuture((String) known[0]);
        java.net.URI base = primaryBase(group.primaryHttp());
        if (base == null) return java.util.concurrent.CompletableFuture.completedFuture(null);
        RequestOptions opts = to(base, io.vertx.core.http.HttpMethod.GET, "/api/v1/whoami", 3000)
                .addHeader("Authorization", "Bearer " + token).addHeader(FORWARDED_BY, nodeName);
        java.util.concurrent.CompletableFuture<String> f = new java.util.concurrent.CompletableFuture<>();
        client.request(opts).compose(r -> r.send()).compose(resp -> resp.body().map(b -> {
            String user = null;
            if (resp.statusCode() == 200) {
                try {
                    user = new io.vertx.core.json.JsonObject(b).getString("user");
                } catch (RuntimeException e) {
                    user = null;
                }
            }
            return user;
        })).onComplete(r -> {
            String user = r.succeeded() ? r.result() : null;
            if (r.succeeded()) {
                if (vouched.size() > 1024) vouched.clear();
                vouched.put(key, new Object[] {user, System.nanoTime() + (user != null ? VOUCH_NANOS : REFUSED_NANOS)});
            }
            f.complete(user);
        });
        return f;
    }
}
