package dev.tandem.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tandem.harness.IpamClients;
import dev.tandem.harness.LoopDisk;
import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import dev.tandem.testing.Await;
import dev.tandem.testing.Bound;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The primary's data_dir fills up (a 128 MiB ext4 image, loop-mounted: root only; the group closes before it is unmounted) while clients write through
 * both nodes. H2 closes a database it cannot write; the node then stops with a clear message and exit code 75
 * (systemd restarts it), the group fails over, and no acknowledged write is lost. Once space is freed the node
 * starts again, checks its file and catches up as the secondary.
 */
class DiskFullTest {
    static final Duration SOON = Bound.soon().deadline();
    @TempDir
    Path root;

    @Test
    void aPrimaryWhoseDiskFillsStops_theGroupFailsOver_andItRejoinsOnceThereIsRoomAgain() throws Exception {
        String why = LoopDisk.unavailable();
        assumeTrue(why == null, "skipped: " + why);
        LoopDisk made;
        try {
            made = LoopDisk.create(root.resolve("node-a.img"), 128, root.resolve("node-a").resolve("data"));
        } catch (java.io.IOException e) {
            assumeTrue(false, "skipped: cannot mount a loop disk here: " + e.getMessage());
            return;
        }
        try (LoopDisk disk = made; ProcessGroup g = ProcessGroup.start(root)) {
            NodeProcess a = g.node("node-a"), b = g.node("node-b");
            ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
            if (pair.primary() != a) {
                ProcessGroup.switchover(pair.primary(), "node-a");
                Await.until("node-a primary after the switchover", SOON, () -> g.acknowledges("node-a"));
                ProcessGroup.awaitInSync(b, SOON);
            }
            ProcessGroup.post(a, "/workflows/ipam/pools", "{\"name\": \"full\", \"cidr\": \"10.9.0.0/16\"}", Duration.ofSeconds(10));
            IpamClients clients = new IpamClients("full", List.of(a, b), 2);
            try {
                Await.until("writes flowing", SOON, () -> clients.size() > 100);
                disk.fill();
                Await.until("node-a stopped", SOON, () -> !a.alive());
                assertThat(a.exitCode()).as("node-a's exit code (75: its store failed; systemd restarts it)").isEqualTo(75);
                assertThat(Files.readString(root.resolve("node-a").resolve("node.log"))).contains("stops: its store failed");
                // timed from here: the disk filling is no fault of the runbook's, so expectPrimary's clock would start too early
                Await.until("node-b primary once node-a stopped", SOON, () -> g.acknowledges("node-b"));
                int before = clients.size();
                Await.until("writes through node-b's primary", SOON, () -> clients.size() > before + 50);
                disk.free();
                a.start().awaitStatus200("/health/secondary", Duration.ofSeconds(120));
            } finally {
                clients.stop();
            }
            ProcessGroup.awaitInSync(a, SOON);
            for (NodeProcess n : List.of(a, b)) {
                Map<String, String> stored = clients.storedOn(n);
                assertThat(clients.acknowledged.entrySet()).as("every acknowledged allocation on " + n.name)
                        .allMatch(e -> e.getValue().equals(stored.get(e.getKey())));
            }
            assertThat(clients.duplicates).isEmpty();
        }
    }
}
