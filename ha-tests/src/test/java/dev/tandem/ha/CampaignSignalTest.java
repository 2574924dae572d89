package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A campaign stopped by SIGTERM (Ctrl-C, kill) while its group is still starting leaves nothing behind: no node
 * process, no mounted disk. It once left a node and two loop mounts, because its clean-up was registered only
 * once the group was up.
 */
class CampaignSignalTest {
    @Test
    void aCampaignStoppedWhileItsNodesStart_leavesNoNodeAndNoMountBehind() throws Exception {
        Path tmp = CampaignTest.root("signal");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process bench = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "-Djava.io.tmpdir=" + tmp,
                "-Dtandem.home=" + NodeProcess.home(), "dev.tandem.bench.CampaignBench", "--minutes", "0", "--faults", "1", "--seed", "22",
                "--setups", "majority")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("bench.log").toFile()).start();
        try {
            until("the campaign's three nodes started", Duration.ofSeconds(120), () -> nodes(bench).size() >= 3);
            List<ProcessHandle> nodes = nodes(bench);
            bench.destroy(); // SIGTERM, while the nodes are still loading their workflows
            assertThat(bench.waitFor(90, TimeUnit.SECONDS)).as("the campaign exits").isTrue();
            until("every node of the campaign stopped", Duration.ofSeconds(30), () -> nodes.stream().noneMatch(ProcessHandle::isAlive));
            assertThat(Files.readAllLines(Path.of("/proc/mounts"))).as("mounts under " + tmp).noneMatch(line -> line.contains(tmp.toString()));
        } finally {
            bench.destroyForcibly();
            bench.descendants().forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** The node processes under the campaign (java, started directly or through ip netns exec). */
    private static List<ProcessHandle> nodes(Process bench) {
        return bench.descendants().filter(p -> p.info().commandLine().orElse("").contains("dev.tandem.cli.TandemCli")).toList();
    }
}
