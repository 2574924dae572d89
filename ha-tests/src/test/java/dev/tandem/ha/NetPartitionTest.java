package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tandem.harness.NetNamespaces;
import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real network partition (each member in a network namespace of its own, the cut a blackhole route in each
 * member's routing table): the primary of a pair with a witness is cut off from both. The other side elects a
 * new primary; the old one, still reachable by clients, stops acknowledging writes (G1); after the heal it
 * follows the new primary in sync. CI runs as root, so this runs there; elsewhere it is skipped with the reason.
 */
class NetPartitionTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    @TempDir
    Path root;

    @Test
    void aPrimaryCutOffByARealPartitionStepsDownAndFollowsAfterTheHeal() throws Exception {
        String why = NetNamespaces.unavailable();
        assumeTrue(why == null, () -> "no network namespaces here: " + why);
        List<String> names = List.of("node-a", "node-b", "witness");
        NetNamespaces net = NetNamespaces.create(names);
        String prefix = "tandem-" + ProcessHandle.current().pid() + "-";
        try (ProcessGroup g = ProcessGroup.startForCampaign(root, NodeProcess.home().resolve("sample-workflows"), names, "", net)) {
            assertThat(g.partitions()).startsWith("network namespaces");
            ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
            NodeProcess old = pair.primary(), next = pair.secondary();
            assertThat(old.url()).as("members serve on their namespace's address").contains("10.231.");
            assertThat(ProcessGroup.post(old, "/workflows/ipam/pools", "{\"name\": \"p\", \"cidr\": \"10.9.0.0/24\"}", SOON).statusCode()).isEqualTo(201);

            g.isolate(old.name);
            until(next.name + " elected on the majority side", SOON, () -> next.status("/health/primary", Duration.ofSeconds(1)) == 200);
            until(old.name + " cut off stops acknowledging", SOON, () -> old.status("/health/primary", Duration.ofSeconds(1)) != 200);
            assertThat(old.status("/health/live", Duration.ofSeconds(2))).as("clients still reach the cut-off node").isEqualTo(200);
            var refused = ProcessGroup.post(old, "/workflows/ipam/pools/p/allocations", "{\"owner\": \"cut-off\"}", SOON);
            assertThat(refused.statusCode()).as("a write on the minority side is refused: " + refused.body()).isGreaterThanOrEqualTo(500);
            assertThat(ProcessGroup.post(next, "/workflows/ipam/pools/p/allocations", "{\"owner\": \"majority\"}", SOON).statusCode()).isEqualTo(201);

            g.heal();
            ProcessGroup.awaitInSync(old, Duration.ofSeconds(60));
            assertThat(g.role(next)).isEqualTo("PRIMARY");
            String onOld = ProcessGroup.getJson(old, "/workflows/ipam/pools/p/allocations").encode();
            assertThat(onOld).contains("majority").doesNotContain("cut-off");
        }
        try (var left = Files.list(Path.of("/run/netns"))) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(s -> s.startsWith(prefix)).toList()).as("namespaces removed").isEmpty();
        }
    }
}
