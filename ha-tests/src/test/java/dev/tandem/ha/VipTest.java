package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vip sample on real processes: each data node gets its own network namespace (its "host"), and
 * its vip_claim / vip_release commands add and remove the address on that namespace's loopback.
 * Where namespaces cannot be created (no privileges), the commands record what they were asked in a
 * file per node instead, and "holds the address" is read from that record.
 */
class VipTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    static final String VIP = "10.203.0.10/32";
    @TempDir
    Path root;
    final Map<String, String> namespaces = new TreeMap<>();
    Path ip;

    @AfterEach
    void removeNamespaces() throws Exception {
        for (String ns : namespaces.values()) run(ip.toString(), "netns", "del", ns);
    }

    @Test
    void theAddressFollowsThePrimaryAcrossKillRejoinAndSwitchover() throws Exception {
        boolean netns = createNamespaces();
        try (ProcessGroup g = ProcessGroup.start(root, NodeProcess.home().resolve("sample-workflows"),
                name -> name.equals("witness") ? "" : ", commands: " + commands(name, netns))) {
            ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
            awaitOnlyHolder(g, pair.primary(), netns);

            NodeProcess first = pair.primary();
            first.kill9();
            NodeProcess survivor = g.awaitPrimary(SOON);
            assertThat(survivor.name).isEqualTo(pair.secondary().name);
            until(survivor.name + " holds the address", SOON, () -> holds(survivor.name, netns));
            // the killed node's host still has it (nothing ran there); on restart the workflow clears it
            first.start();
            ProcessGroup.awaitInSync(first, Duration.ofSeconds(120));
            awaitOnlyHolder(g, survivor, netns);

            ProcessGroup.switchover(survivor, first.name);
            assertThat(g.awaitPrimary(SOON).name).isEqualTo(first.name);
            awaitOnlyHolder(g, first, netns);
            ProcessGroup.switchover(first, survivor.name);
            awaitOnlyHolder(g, survivor, netns);
        }
    }

    private void awaitOnlyHolder(ProcessGroup g, NodeProcess primary, boolean netns) {
        NodeProcess other = g.other(primary);
        until("only " + primary.name + " holds " + VIP, SOON, () -> holds(primary.name, netns) && !holds(other.name, netns));
        assertThat(ProcessGroup.getJson(primary, "/workflows/vip/").getBoolean("holding")).isTrue();
        assertThat(ProcessGroup.getJson(other, "/workflows/vip/").getBoolean("holding")).isFalse();
    }

    /** The vip commands of one node, as the inside of a YAML flow mapping. */
    private String commands(String node, boolean netns) {
        if (netns) {
            String ns = namespaces.get(node);
            return "{vip_claim: [%s, -n, %s, addr, replace, %s, dev, lo], vip_release: [%s, -n, %s, addr, del, %s, dev, lo]}"
                    .formatted(ip, ns, VIP, ip, ns, VIP);
        }
        Path record = root.resolve(node + "-vip.log");
        return "{vip_claim: [/bin/sh, -c, 'echo claim >> %s'], vip_release: [/bin/sh, -c, 'echo release >> %s']}".formatted(record, record);
    }

    private boolean holds(String node, boolean netns) {
        try {
            if (netns) return run(ip.toString(), "-n", namespaces.get(node), "-br", "addr", "show", "dev", "lo").contains(VIP);
            Path record = root.resolve(node + "-vip.log");
            if (!Files.exists(record)) return false;
            List<String> lines = Files.readAllLines(record);
            return !lines.isEmpty() && lines.get(lines.size() - 1).equals("claim");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One namespace per data node, named after this test process; false when this machine does not allow it. */
    private boolean createNamespaces() throws IOException {
        ip = Files.isExecutable(Path.of("/usr/sbin/ip")) ? Path.of("/usr/sbin/ip") : Path.of("/sbin/ip");
        if (!Files.isExecutable(ip)) return false;
        for (String node : List.of("node-a", "node-b")) {
            String ns = "tandem-vip-" + ProcessHandle.current().pid() + "-" + node;
            String out = run(ip.toString(), "netns", "add", ns);
            if (!Files.exists(Path.of("/run/netns", ns))) {
                System.out.println("network namespaces unavailable here (" + out.strip() + "); the vip commands record instead");
                return false;
            }
            namespaces.put(node, ns);
            run(ip.toString(), "-n", ns, "link", "set", "lo", "up");
        }
        return true;
    }

    private static String run(String... argv) throws IOException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(argv))).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + " did not end in 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return new String(p.getInputStream().readAllBytes());
    }
}
