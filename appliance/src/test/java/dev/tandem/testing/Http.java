package dev.tandem.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small real HTTP client for tests: JDK HttpClient, JSON bodies. */
public final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public record Response(int status, String body, HttpResponse<String> raw) {
        public JsonObject json() {
            return new JsonObject(body);
        }

        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }
    }

    private final String base;
    private final String token;

    public Http(String base) {
        this(base, null);
    }

    private Http(String base, String token) {
        this.base = base;
        this.token = token;
    }

    /** The same node, every request sent with {@code Authorization: Bearer token}. */
    public Http withToken(String token) {
        return new Http(base, token);
    }

    /** The same node, without a token. */
    public Http anonymous() {
        return new Http(base, null);
    }

    public static Http local(int port) {
        return new Http("http://127.0.0.1:" + port);
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    public Response post(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** A request builder for {@code path} on this node, for headers or bodies the shortcuts do not cover. */
    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path));
    }

    /** Zips every file under {@code folder} (paths relative to it): a workflow as POST /api/v1/workflows takes it. */
    public static byte[] zip(java.nio.file.Path folder, java.util.Map<String, String> replaced) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        try (var zip = new java.util.zip.ZipOutputStream(bytes); var files = java.nio.file.Files.walk(folder)) {
            for (java.nio.file.Path f : files.filter(java.nio.file.Files::isRegularFile).sorted().toList()) {
                String rel = folder.relativize(f).toString();
                zip.putNextEntry(new java.util.zip.ZipEntry(rel));
                zip.write(replaced.containsKey(rel) ? replaced.get(rel).getBytes(java.nio.charset.StandardCharsets.UTF_8)
                        : java.nio.file.Files.readAllBytes(f));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    public Response delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    public Response send(HttpRequest.Builder b) {
        if (token != null) {
            var probe = b.copy().build();
            if (probe.headers().firstValue("Authorization").isEmpty()) b.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> r = CLIENT.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body(), r);
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }
}
