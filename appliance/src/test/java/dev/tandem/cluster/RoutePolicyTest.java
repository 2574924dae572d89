package dev.tandem.cluster;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Http;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On a secondary: reads are served there, writes go to the primary, "reject" routes answer 503 with the primary's address. */
class RoutePolicyTest {
    @TempDir
    Path root;

    @Test
    void routesRunWhereTheirPolicySays() throws Exception {
        Path workflows = Path.of(RoutePolicyTest.class.getResource("/workflows").toURI());
        try (LocalGroup g = LocalGroup.start(root, workflows, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String primary = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60)), secondary = LocalGroup.other(primary);
            until("secondary caught up", Duration.ofSeconds(60), () -> g.nodes.get(secondary).replication().caughtUp());
            Http http = Http.local(g.nodes.get(secondary).httpPort());

            var read = http.get("/workflows/api/where");
            assertThat(read.json().getString("served_by")).as("a read stays on the secondary").isEqualTo(secondary);
            assertThat(read.header("X-Tandem-Forwarded-By")).isNull();

            var write = http.post("/workflows/api/where", "{}");
            assertThat(write.status()).isEqualTo(200);
            assertThat(write.json().getString("served_by")).as("a write goes to the primary").isEqualTo(primary);
            assertThat(write.header("X-Tandem-Forwarded-By")).isEqualTo(secondary);

            var refused = http.post("/workflows/api/primary-only", "{}");
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.header("Retry-After")).isEqualTo("1");
            assertThat(refused.header("X-Tandem-Primary")).startsWith(primary + " http://127.0.0.1:");
            assertThat(Http.local(g.nodes.get(primary).httpPort()).post("/workflows/api/primary-only", "{}").json().getString("served_by"))
                    .isEqualTo(primary);
        }
    }

    @Test
    void withoutForwardToPrimaryASecondaryRefusesWorkflowAndAdminWritesAlike() throws Exception {
        Path workflows = Path.of(RoutePolicyTest.class.getResource("/workflows").toURI());
        try (LocalGroup g = LocalGroup.start(root, workflows, "majority", java.util.List.of("http.forward_to_primary=false"),
                "node-a:data", "node-b:data", "witness:witness")) {
            String primary = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60)), secondary = LocalGroup.other(primary);
            String token = java.nio.file.Files.readString(root.resolve(secondary).resolve(dev.tandem.node.AdminToken.FILE)).strip();
            Http onSecondary = Http.local(g.nodes.get(secondary).httpPort()).withToken(token);
            // one rule decides for both (SPEC 5): held during a failover, then forwarded only if forward_to_primary allows
            for (var refused : java.util.List.of(onSecondary.post("/workflows/api/where", "{}"),
                    onSecondary.post("/api/v1/users", "{\"user\": \"bob\", \"password\": \"long-enough-1\"}"))) {
                assertThat(refused.status()).as(refused.body()).isEqualTo(503);
                assertThat(refused.header("X-Tandem-Forwarded-By")).as("not forwarded").isNull();
                assertThat(refused.header("X-Tandem-Primary")).startsWith(primary + " http://127.0.0.1:");
                assertThat(refused.json().getString("message")).contains("not the primary").contains(primary);
            }
            // the primary takes both
            Http onPrimary = Http.local(g.nodes.get(primary).httpPort()).withToken(token);
            assertThat(onPrimary.post("/api/v1/users", "{\"user\": \"bob\", \"password\": \"long-enough-1\"}").status()).isEqualTo(201);
        }
    }

    @Test
    void aForwardWhosePrimaryLeavesTheGroupIsAnsweredAtOnceOutcomeUnknown() throws Exception {
        Path workflows = Path.of(RoutePolicyTest.class.getResource("/workflows").toURI());
        try (LocalGroup g = LocalGroup.start(root, workflows, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String primary = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60)), secondary = LocalGroup.other(primary);
            Http http = Http.local(g.nodes.get(secondary).httpPort());
            var store = g.nodes.get(primary).store();
            long before = store.lastLsn();
            // the primary holds the forwarded write for 25 s; meanwhile it is cut off from the group (its HTTP still answers)
            var answer = java.util.concurrent.CompletableFuture.supplyAsync(() -> http.post("/workflows/api/slow", "{\"seconds\": 25}"));
            until("the forwarded write is running on the primary (its first commit)", Duration.ofSeconds(30), () -> store.lastLsn() > before);
            long cut = System.nanoTime();
            g.isolate(primary);
            var r = answer.get(60, java.util.concurrent.TimeUnit.SECONDS);
            long tookMs = (System.nanoTime() - cut) / 1_000_000;
            assertThat(r.status()).as(r.body()).isEqualTo(504);
            assertThat(r.json().getString("message")).contains(primary + ", which left the group").contains("unknown");
            assertThat(tookMs).as("answered when the primary left the view, not when its 25 s were up").isLessThan(20_000);
            g.heal();
        }
    }
}
