package dev.tandem.http;

import dev.tandem.cluster.GroupMember;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;

/**
 * Passes a request a secondary cannot serve to the primary and relays the answer (workflow writes,
 * admin writes such as login and deploy), or refuses it with 503, Retry-After and X-Tandem-Primary.
 * A forwarded request carries {@code X-Tandem-Forwarded-By} and is never forwarded again.
 */
final class Forwarder {
    static final String FORWARDED_BY = "X-Tandem-Forwarded-By";
    private final GroupMember group;
    private final String nodeName;
    private final HttpClient client;

    Forwarder(Vertx vertx, GroupMember group, String nodeName) {
        this.group = group;
        this.nodeName = nodeName;
        this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(1000), new PoolOptions().setHttp1MaxSize(64));
    }

    static boolean wasForwarded(RoutingContext ctx) {
        return ctx.request().getHeader(FORWARDED_BY) != null;
    }

    void refuse(RoutingContext ctx, String message) {
        ctx.response().putHeader("Retry-After", "1");
        if (group.primary() != null) ctx.response().putHeader("X-Tandem-Primary", group.primary() + " " + group.primaryHttp());
        Errors.send(ctx, 503, message);
    }

    void forward(RoutingContext ctx, String primaryUrl) {
        HttpServerRequest in = ctx.request();
        RequestOptions opts = new RequestOptions().setMethod(in.method()).setAbsoluteURI(primaryUrl + in.uri()).setTimeout(30_000);
        in.headers().forEach(h -> {
            String n = h.getKey().toLowerCase();
            if (!n.equals("host") && !n.equals("content-length") && !n.equals("connection") && !n.equals("transfer-encoding")) {
                opts.addHeader(h.getKey(), h.getValue());
            }
        });
        opts.addHeader(FORWARDED_BY, nodeName);
        client.request(opts)
                .compose(r -> ctx.body() == null || ctx.body().buffer() == null ? r.send() : r.send(ctx.body().buffer()))
                .compose(resp -> resp.body().map(b -> {
                    var out = ctx.response().setStatusCode(resp.statusCode());
                    resp.headers().forEach(h -> {
                        String n = h.getKey().toLowerCase();
                        if (!n.equals("content-length") && !n.equals("connection") && !n.equals("transfer-encoding")) out.putHeader(h.getKey(), h.getValue());
                    });
                    out.putHeader(FORWARDED_BY, nodeName);
                    out.end(b);
                    return b;
                }))
                .onFailure(e -> refuse(ctx, "could not forward to the primary at " + primaryUrl + ": " + e.getMessage()));
    }
}
