package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * G3 and G5 on real processes: a pair with {@code quorum: none} is cut in two (fault injection drops
 * every group message between them); both halves serve and each hands out an address; on heal the
 * group converges to the newer term's primary, and the other node keeps what it alone had written as
 * divergent changes (event and API) before following the group's history.
 */
class DivergenceTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    @TempDir
    Path root;

    @Test
    void afterAHealedPartitionTheLosingSidesWritesArePreservedNotLost() throws Exception {
        try (ProcessGroup g = ProcessGroup.startPairWithFaults(root)) {
            ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
            NodeProcess a = pair.primary(), b = pair.secondary();
            assertThat(ProcessGroup.post(a, "/workflows/ipam/pools", "{\"name\": \"lab\", \"cidr\": \"10.0.0.0/24\"}", SOON).statusCode()).isEqualTo(201);
            ProcessGroup.awaitInSync(b, SOON);

            g.isolate(a.name);
            until(b.name + " takes over its half", SOON, () -> b.status("/health/primary", Duration.ofSeconds(1)) == 200);
            var left = ProcessGroup.post(a, "/workflows/ipam/pools/lab/allocations", "{\"owner\": \"left\"}", SOON);
            var right = ProcessGroup.post(b, "/workflows/ipam/pools/lab/allocations", "{\"owner\": \"right\"}", SOON);
            assertThat(left.statusCode()).as("the old primary's half serves (quorum none): " + left.body()).isEqualTo(201);
            assertThat(right.statusCode()).as(right.body()).isEqualTo(201);
            long bTerm = ProcessGroup.getJson(b, "/api/v1/node").getLong("term");

            g.heal();
            until("one primary again: " + b.name + " (newer term)", Duration.ofSeconds(60),
                    () -> "SECONDARY".equals(g.role(a)) && "PRIMARY".equals(g.role(b)));
            ProcessGroup.awaitInSync(a, Duration.ofSeconds(60));
            assertThat(ProcessGroup.getJson(a, "/api/v1/node").getLong("term")).isGreaterThanOrEqualTo(bTerm);

            JsonArray kept = ProcessGroup.getJson(a, "/api/v1/divergent").getJsonArray("changes");
            assertThat(kept.encode()).as("a's own allocation is kept as a divergent change").contains("left");
            assertThat(events(a, "DIVERGENCE_PRESERVED")).isNotEmpty();
            JsonArray onB = ProcessGroup.getJson(b, "/workflows/ipam/pools/lab/allocations").getJsonArray("allocations");
            assertThat(onB.encode()).contains("right").doesNotContain("left");
            assertThat(ProcessGroup.getJson(a, "/workflows/ipam/pools/lab/allocations").getJsonArray("allocations"))
                    .as("a follows the group's history").isEqualTo(onB);
        }
    }

    static JsonArray events(NodeProcess n, String type) {
        JsonArray out = new JsonArray();
        for (Object o : ProcessGroup.getJson(n, "/api/v1/events?limit=1000").getJsonArray("events")) {
            if (((JsonObject) o).getString("type").equals(type)) out.add(o);
        }
        return out;
    }
}
