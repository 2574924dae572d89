package dev.tandem.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Every error tandem's HTTP answers with: {"status", "code", "message"} (SPEC section 5). */
public final class Errors {
    private Errors() {}

    public static String codeFor(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 409 -> "conflict";
            case 413 -> "payload_too_large";
            case 414 -> "uri_too_long";
            case 415 -> "unsupported_media_type";
            case 429 -> "too_many_requests";
            case 431 -> "headers_too_large";
            case 503 -> "unavailable";
            case 504 -> "timeout";
            default -> status >= 500 ? "internal_error" : "error";
        };
    }

    /** {@code text} cut to {@code max} characters (what an error may echo of a client's input). */
    public static String clip(String text, int max) {
        if (text == null || text.length() <= max) return text;
        return text.substring(0, max) + "... (" + text.length() + " characters)";
    }

    public static JsonObject body(int status, String code, String message) {
        return new JsonObject().put("status", status).put("code", code).put("message", message);
    }

    public static void send(RoutingContext ctx, int status, String message) {
        send(ctx, body(status, codeFor(status), message));
    }

    public static void send(RoutingContext ctx, JsonObject body) {
        if (ctx.response().ended()) return;
        ctx.response().setStatusCode(body.getInteger("status"))
                .putHeader("content-type", "application/json")
                .end(body.encode());
    }
}
