package dev.tandem.cluster;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.node.AdminToken;
import dev.tandem.testing.Http;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC 5 and issue 4 item 7 with real channels: a workflow deployed (as a zip) through either node
 * reaches both, gets its first role call on each, and keeps running on the survivor after the
 * primary is gone; users and login tokens live in the replicated store, so a token keeps working on
 * the other node after failover.
 */
class DeployAndLoginTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    @TempDir
    Path root;

    @Test
    void aDeployedWorkflowAndALoginTokenSurviveFailover() throws Exception {
        Path greet = Path.of(DeployAndLoginTest.class.getResource("/deploy/greet").toURI());
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String primary = g.awaitPrimaryAndSecondary(SOON), secondary = LocalGroup.other(primary);
            Http onPrimary = Http.local(g.nodes.get(primary).httpPort()), onSecondary = Http.local(g.nodes.get(secondary).httpPort());
            String adminToken = Files.readString(root.resolve(secondary).resolve(AdminToken.FILE)).strip();
            assertThat(Files.readString(root.resolve(primary).resolve(AdminToken.FILE)).strip())
                    .as("one admin token for the group (derived from its secret)").isEqualTo(adminToken);

            var notAZip = onPrimary.send(zipPost(onPrimary, "/api/v1/workflows?name=bad", "nope".getBytes(), adminToken));
            assertThat(notAZip.status()).isEqualTo(400);
            assertThat(notAZip.json().getString("message")).contains("zip");
            assertThat(onPrimary.send(zipPost(onPrimary, "/api/v1/workflows", Http.zip(greet, Map.of()), adminToken)).json()
                    .getString("message")).contains("?name=");

            // deploy through the secondary: forwarded to the primary, answered once loaded there
            var deployed = onSecondary.send(zipPost(onSecondary, "/api/v1/workflows?name=greet", Http.zip(greet, Map.of()), adminToken));
            assertThat(deployed.status()).as(deployed.body()).isEqualTo(201);
            assertThat(deployed.json().getString("state")).isEqualTo("loaded");
            assertThat(deployed.json().getString("source")).isEqualTo("deployed");
            assertThat(deployed.json().getString("deployed_by")).isEqualTo("admin-token");
            assertThat(onPrimary.get("/workflows/greet/").json().getInteger("version")).isEqualTo(1);
            until("greet runs on the secondary", SOON, () -> onSecondary.get("/workflows/greet/").status() == 200);
            JsonObject there = onSecondary.get("/workflows/greet/").json();
            assertThat(there.getString("node")).isEqualTo(secondary);
            assertThat(there.getJsonArray("roles").getJsonArray(0).getList()).as("its first role call")
                    .containsExactly(null, "SECONDARY");

            // a new version replaces the old on both nodes
            byte[] v2 = Http.zip(greet, Map.of("workflow.py", Files.readString(greet.resolve("workflow.py")).replace("VERSION = 1", "VERSION = 2")));
            assertThat(onPrimary.send(zipPost(onPrimary, "/api/v1/workflows?name=greet", v2, adminToken)).status()).isEqualTo(201);
            // while the secondary swaps the versions, greet may answer 503 for a moment (no "version" then)
            until("version 2 on the secondary", SOON, () -> Integer.valueOf(2).equals(onSecondary.get("/workflows/greet/").json().getInteger("version")));

            // a user, and a login through the secondary
            assertThat(onPrimary.send(json(onPrimary, "/api/v1/users", "{\"user\": \"alice\", \"password\": \"correct horse\"}", adminToken)).status())
                    .isEqualTo(201);
            assertThat(onSecondary.post("/api/v1/login", "{\"user\": \"alice\", \"password\": \"wrong horse\"}").status()).isEqualTo(401);
            var login = onSecondary.post("/api/v1/login", "{\"user\": \"alice\", \"password\": \"correct horse\"}");
            assertThat(login.status()).as(login.body()).isEqualTo(200);
            String token = login.json().getString("token");
            assertThat(whoami(onSecondary, token)).isEqualTo("alice");
            assertThat(onSecondary.send(onSecondary.request("/api/v1/whoami").header("Authorization", "Bearer not-a-token")).status())
                    .as("a bad token is refused, from loopback too").isEqualTo(401);

            // the primary goes away: the survivor serves the workflow and honours the token
            g.nodes.get(primary).close();
            until(secondary + " primary", SOON, () -> g.role(secondary) == dev.tandem.api.NodeRole.PRIMARY && g.nodes.get(secondary).group().mayAcknowledge());
            assertThat(whoami(onSecondary, token)).isEqualTo("alice");
            until("greet's hook saw the promotion", SOON, () -> onSecondary.get("/workflows/greet/").json().getJsonArray("roles")
                    .stream().anyMatch(r -> "PRIMARY".equals(((io.vertx.core.json.JsonArray) r).getString(1))));
            assertThat(onSecondary.get("/workflows/greet/").json().getInteger("version")).isEqualTo(2);

            // and removing it is a replicated write like the rest
            assertThat(onSecondary.send(onSecondary.request("/api/v1/workflows/greet").header("Authorization", "Bearer " + token).DELETE())
                    .status()).isEqualTo(204);
            assertThat(onSecondary.get("/workflows/greet/").status()).isEqualTo(404);
        }
    }

    private static String whoami(Http http, String token) {
        var r = http.send(http.request("/api/v1/whoami").header("Authorization", "Bearer " + token));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().getString("user");
    }

    private static HttpRequest.Builder zipPost(Http http, String path, byte[] zip, String token) {
        return http.request(path).header("content-type", "application/zip")
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofByteArray(zip));
    }

    private static HttpRequest.Builder json(Http http, String path, String body, String token) {
        return http.request(path).header("content-type", "application/json")
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body));
    }
}
