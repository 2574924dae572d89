package dev.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.config.TlsFiles;
import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** http.tls: HTTPS on the node's port (plain HTTP refused), HSTS, https:// URLs in the group, forwarding to the primary over verified TLS. */
class TlsTest {
    @TempDir
    Path root;

    /** A self-signed certificate for 127.0.0.1 made with openssl, as an operator would. */
    static Path[] selfSigned(Path dir) throws Exception {
        Path cert = dir.resolve("tls.crt"), key = dir.resolve("tls.key");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(), "-out", cert.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        return new Path[] {cert, key};
    }

    @Test
    void nodesServeHttpsOnly_andForwardToThePrimaryOverVerifiedTls() throws Exception {
        Path[] pem = selfSigned(Files.createDirectories(root.resolve("pki")));
        try (LocalGroup g = LocalGroup.start(root, Files.createDirectories(root.resolve("wf")), "majority",
                List.of("http.tls.cert=" + pem[0], "http.tls.key=" + pem[1]), "node-a:data", "node-b:data", "witness:witness")) {
            String primary = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60));
            String secondary = LocalGroup.other(primary);
            HttpClient https = HttpClient.newBuilder().sslContext(TlsFiles.trusting(pem[0])).connectTimeout(Duration.ofSeconds(5)).build();
            String p = "https://127.0.0.1:" + g.nodes.get(primary).httpPort(), s = "https://127.0.0.1:" + g.nodes.get(secondary).httpPort();

            HttpResponse<String> live = https.send(HttpRequest.newBuilder(URI.create(p + "/health/live")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(live.headers().firstValue("Strict-Transport-Security")).hasValueSatisfying(v -> assertThat(v).contains("max-age="));
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create(p.replace("https:", "http:") + "/health/live"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                    .as("plain HTTP is not served on a TLS port").isInstanceOf(java.io.IOException.class);

            String token = TestNode.adminToken(root.resolve(primary));
            JsonObject group = new JsonObject(https.send(HttpRequest.newBuilder(URI.create(p + "/api/v1/group")).header("Authorization", "Bearer " + token)
                    .build(), HttpResponse.BodyHandlers.ofString()).body());
            assertThat(group.encode()).contains("\"http\":\"https://127.0.0.1:").doesNotContain("\"http\":\"http://");

            HttpResponse<String> user = https.send(HttpRequest.newBuilder(URI.create(p + "/api/v1/users")).header("Authorization", "Bearer " + token)
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"user\": \"ops\", \"password\": \"tls-password\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(user.statusCode()).as(user.body()).isEqualTo(201);
            // a login sent to the secondary is forwarded to the primary over HTTPS, the primary's certificate checked
            HttpResponse<String> login = https.send(HttpRequest.newBuilder(URI.create(s + "/api/v1/login")).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"user\": \"ops\", \"password\": \"tls-password\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
            assertThat(login.headers().firstValue("X-Tandem-Forwarded-By")).contains(secondary);
        }
    }
}
