package dev.tandem.cli;

import dev.tandem.config.ConfigException;
import dev.tandem.config.TandemConfig;
import dev.tandem.node.AdminToken;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How the admin commands reach a node: {@code --url} and {@code TANDEM_TOKEN}, or the local node found
 * from the configuration with the token it wrote to {@code data_dir/admin.token}.
 */
final class AdminClient {
    @Mixin
    ConfigOptions config;

    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec mixee;

    @Option(names = "--url", paramLabel = "URL", description = "the node's HTTP address (default: from the configuration)")
    String url;

    record Answer(int status, JsonObject body) {}

    /** Thrown for anything that keeps the command from talking to the node. */
    static final class Unreachable extends Exception {
        final int exit;

        Unreachable(String message, int exit) {
            super(message);
            this.exit = exit;
        }
    }

    private String base;
    private String token;

    private javax.net.ssl.SSLContext ssl;

    private void resolve() throws Unreachable {
        if (base != null) return;
        token = System.getenv("TANDEM_TOKEN");
        String command = mixee == null ? "status" : mixee.name();
        TandemConfig c = null;
        java.nio.file.Path file = config.effectiveFile();
        if (url == null && file != null && Files.exists(file) && !Files.isReadable(file)) {
            // as installed, tandem.yaml is root:tandem 0640: say so instead of a bad-configuration report
            throw new Unreachable("permission denied: this user may not read " + file + " (it is readable by root and the tandem group"
                    + " only); run the command as root, e.g. sudo tandem " + command + ", or give --url and TANDEM_TOKEN", TandemCli.FAILED);
        }
        try {
            c = config.resolve().config();
        } catch (ConfigException e) {
            if (url == null) {
                ConfigOptions.report(e);
                throw new Unreachable("bad configuration", TandemCli.BAD_USAGE);
            } // with --url the configuration is only a source of the token and the TLS trust: fine without
        }
        if (url != null) {
            base = url.replaceAll("/+$", "");
        } else {
            String host = c.http().bind().host();
            if (host.equals("0.0.0.0") || host.equals("::")) host = "127.0.0.1";
            base = dev.tandem.http.Tls.scheme(c.http()) + "://" + host + ":" + c.http().bind().port();
        }
        if (c != null && token == null) {
            try {
                var f = c.node().dataDir().resolve(AdminToken.FILE);
                if (Files.isReadable(f)) {
                    token = Files.readString(f).strip();
                } else if (url == null && (Files.exists(f) || (Files.exists(f.getParent()) && !Files.isReadable(f.getParent())))) {
                    throw new Unreachable("permission denied: this user may not read the node's admin token " + f + " (mode 0600, owner of"
                            + " the node's process); run the command as root, e.g. sudo tandem " + command + ", or set TANDEM_TOKEN", TandemCli.FAILED);
                }
            } catch (IOException ignored) {
                // no token: the node answers 401, and the command says so
            }
        }
        if (c != null && c.http().tls() && base.startsWith("https:")) {
            try {
                ssl = dev.tandem.config.TlsFiles.trusting(c.http().trustedCerts());
            } catch (IOException e) {
                throw new Unreachable("cannot use " + c.http().trustedCerts() + " to check the node's certificate: " + e.getMessage(), TandemCli.FAILED);
            }
        }
    }

    Answer get(String path) throws Unreachable {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    Answer post(String path, JsonObject body) throws Unreachable {
        return send(HttpRequest.newBuilder(uri(path)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode())));
    }

    /**
     * For the commands that change something: POSTs {@code body}, prints {@code done(answer)} on 200
     * and returns OK; otherwise prints {@code failure} and the node's message and returns the exit status.
     */
    int postAndReport(String path, JsonObject body, java.util.function.Function<JsonObject, String> done, String failure) {
        try {
            Answer a = post(path, body);
            if (a.status() == 200) {
                System.out.println(done.apply(a.body()));
                return TandemCli.OK;
            }
            System.err.println("tandem: " + failure + a.body().getString("message", "HTTP " + a.status()));
            return TandemCli.FAILED;
        } catch (Unreachable e) {
            System.err.println("tandem: " + e.getMessage());
            return e.exit;
        }
    }

    private URI uri(String path) throws Unreachable {
        resolve();
        return URI.create(base + path);
    }

    private Answer send(HttpRequest.Builder b) throws Unreachable {
        if (token != null) b.header("Authorization", "Bearer " + token);
        try {
            HttpClient.Builder cb = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3));
            if (ssl != null) cb.sslContext(ssl);
            HttpResponse<String> r = cb.build()
                    .send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            JsonObject body = r.body().isBlank() ? new JsonObject() : new JsonObject(r.body());
            if (r.statusCode() == 401) {
                body.put("message", body.getString("message", "unauthorized") + " (the admin commands read the token from data_dir/"
                        + AdminToken.FILE + " of the configuration, or TANDEM_TOKEN)");
            }
            return new Answer(r.statusCode(), body);
        } catch (IOException e) {
            throw new Unreachable("cannot reach the node at " + base + " (" + e.getMessage() + "); is it running? (`tandem run`, or pass --url)",
                    TandemCli.FAILED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted", TandemCli.FAILED);
        } catch (RuntimeException e) {
            throw new Unreachable("the node at " + base + " did not answer JSON: " + e.getMessage(), TandemCli.FAILED);
        }
    }
}
