package dev.tandem.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every request meets before any route: every request gets an answer, and a client cannot hold
 * the node's resources open. A request target that is not a path ("origin-form", RFC 9112 3.2.1: an
 * absolute URL, {@code *}, or {@code @host:port/...}) is refused with 400: this node is no proxy. A
 * connection that has not sent a complete request within {@code http.client_timeout} (headers
 * trickled one byte at a time, a body that never ends, an idle keep-alive connection) is closed, the
 * way nginx's client_header_timeout and client_body_timeout do it. Requests the HTTP decoder itself
 * refuses (a URL or headers too long, garbage) get a JSON error like every other answer.
 */
final class RequestGuard {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RequestGuard.class);
    /** Per open connection: requests in progress, and since when it has been waiting for the next one. */
    private static final class Conn {
        volatile int active;
        volatile long waitingSince = System.currentTimeMillis();
    }

    private final Map<HttpConnection, Conn> connections = new ConcurrentHashMap<>();
    private final long clientTimeoutMs;

    private RequestGuard(long clientTimeoutMs) {
        this.clientTimeoutMs = clientTimeoutMs;
    }

    /** Installs the connection deadlines and the JSON answer to undecodable requests on {@code server}. */
    static RequestGuard install(Vertx vertx, HttpServer server, long clientTimeoutMs) {
        RequestGuard g = new RequestGuard(clientTimeoutMs);
        server.connectionHandler(c -> {
            g.connections.put(c, new Conn());
            c.closeHandler(v -> g.connections.remove(c));
        });
        server.invalidRequestHandler(RequestGuard::invalid);
        long period = Math.max(100, Math.min(1000, clientTimeoutMs / 4));
        vertx.setPeriodic(period, id -> g.closeStalled());
        return g;
    }

    private void closeStalled() {
        long now = System.currentTimeMillis();
        connections.forEach((c, s) -> {
            if (s.active == 0 && now - s.waitingSince > clientTimeoutMs) {
                connections.remove(c);
                c.close();
            }
        });
    }

    /** The first handler of every route: refuse what is not origin-form, track the connection, bound the body. */
    void handle(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        if (!originForm(req)) {
            ctx.response().putHeader("connection", "close");
            Errors.send(ctx, 400, NOT_ORIGIN_FORM);
            return;
        }
        Conn conn = null;
        if (req.connection() != null) {
            conn = connections.computeIfAbsent(req.connection(), c -> {
                c.closeHandler(v -> connections.remove(c));
                return new Conn();
            });
        }
        if (conn != null) {
            Conn tracked = conn;
            tracked.active++;
            ctx.addEndHandler(v -> {
                tracked.active--;
                tracked.waitingSince = System.currentTimeMillis();
            });
        }
        if (!req.isEnded()) {
            long timer = ctx.vertx().setTimer(clientTimeoutMs, id -> {
                if (!req.isEnded() && !ctx.response().ended()) {
                    log.debug("closing a connection from {}: its request body did not arrive within {} ms", req.remoteAddress(), clientTimeoutMs);
                    ctx.response().putHeader("connection", "close");
                    Errors.send(ctx, 408, "the request body did not arrive within http.client_timeout (" + clientTimeoutMs + " ms)");
                    if (req.connection() != null) req.connection().close();
                }
            });
            ctx.addEndHandler(v -> ctx.vertx().cancelTimer(timer));
        }
        ctx.next();
    }

    static boolean originForm(HttpServerRequest req) {
        String target = req.uri();
        return target != null && target.startsWith("/");
    }

    private static final String NOT_ORIGIN_FORM = "the request target must be a path such as /workflows/ipam/ (origin-form); "
            + "absolute URLs, '*' and authority targets are refused: this node is not a proxy";

    /** Answers 400 to a request whose target is not a path, and closes its connection. */
    static void refuseTarget(HttpServerRequest req) {
        req.response().setStatusCode(400).putHeader("content-type", "application/json").putHeader("connection", "close")
                .end(Errors.body(400, "bad_request", NOT_ORIGIN_FORM).encode());
    }

    /** Requests Netty's decoder refused before any route saw them: JSON like every other error, then close. */
    private static void invalid(HttpServerRequest req) {
        Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
        int status;
        String message;
        if (cause instanceof TooLongHttpLineException) {
            status = 414;
            message = "the request line is longer than 4096 bytes; shorten the URL and send data in the body";
        } else if (cause instanceof TooLongHttpHeaderException) {
            status = 431;
            message = "the request headers are larger than 8 KiB; send fewer or smaller headers";
        } else {
            status = 400;
            message = "the request is not valid HTTP/1.1" + (cause == null || cause.getMessage() == null ? ""
                    : " (" + Errors.clip(cause.getMessage(), 200) + ")");
        }
        req.response().setStatusCode(status).putHeader("content-type", "application/json").putHeader("connection", "close")
                .end(Errors.body(status, Errors.codeFor(status), message).encode())
                .onComplete(v -> {
                    if (req.connection() != null) req.connection().close();
                });
    }
}
