package dev.tandem.http;

import dev.tandem.cluster.GroupMember;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The web admin console at {@code /console/}: static files built from {@code appliance/console} at
 * Maven build time and served from this node's own jar (nothing is fetched at run time). The console
 * talks to {@code /api/v1} with a bearer token it keeps in the tab's sessionStorage (no cookie: a
 * cross-site request carries no credentials, so there is nothing to forge). When the node that served
 * it dies, the console goes on with another node of the group: {@link #cors} lets exactly the group's
 * own node URLs call the API cross-origin.
 */
final class Console {
    /** Developers: {@code -Dtandem.console.dir=appliance/console/dist} serves a folder instead of the jar's copy. */
    static final String DEV_DIR = "tandem.console.dir";

    private Console() {}

    static void mount(Router router, GroupMember group) {
        router.get("/console").handler(ctx -> {
            // the route matches "/console/" too; only the bare path is sent to the folder
            if (ctx.request().path().equals("/console")) ctx.redirect("/console/");
            else ctx.next();
        });
        String dir = System.getProperty(DEV_DIR);
        StaticHandler files = dir != null
                ? StaticHandler.create(FileSystemAccess.ROOT, java.nio.file.Path.of(dir).toAbsolutePath().toString()).setCachingEnabled(false)
                : StaticHandler.create("console").setCachingEnabled(true).setMaxAgeSeconds(60);
        files.setIndexPage("index.html").setDirectoryListing(false).setIncludeHidden(false).setDefaultContentEncoding("UTF-8");
        router.route("/console/*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> {
            var h = ctx.response().headers();
            // the page may call its own node and the group's other nodes, and nothing else
            StringBuilder connect = new StringBuilder("'self'");
            for (String url : group.groupOrigins()) connect.append(' ').append(url);
            h.set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    + "connect-src " + connect + "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
            h.set("X-Content-Type-Options", "nosniff");
            h.set("Referrer-Policy", "no-referrer");
            h.set("X-Frame-Options", "DENY");
            ctx.next();
        }).handler(files);
    }

    /**
     * CORS for {@code /api/v1} and {@code /metrics}: an {@code Origin} that is one of the group's own
     * node URLs is allowed (the console, switched to this node after the one that served it died);
     * any other origin gets no CORS headers, so the browser keeps the answer from its page. Preflights
     * are answered here, before login is checked (a preflight carries no token) and before audit.
     */
    static void cors(RoutingContext ctx, GroupMember group) {
        String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
        var resp = ctx.response();
        resp.headers().add(HttpHeaders.VARY, "Origin");
        boolean allowed = origin != null && group.isGroupOrigin(origin);
        if (allowed) {
            resp.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            resp.putHeader(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, "Retry-After, X-Tandem-Primary");
        }
        if (ctx.request().method() == HttpMethod.OPTIONS && ctx.request().getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD) != null) {
            if (allowed) {
                resp.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, DELETE");
                resp.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type");
                resp.putHeader(HttpHeaders.ACCESS_CONTROL_MAX_AGE, "600");
            }
            resp.setStatusCode(204).end();
            return;
        }
        ctx.next();
    }
}
