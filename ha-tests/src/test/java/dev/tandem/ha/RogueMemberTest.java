package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real tandem process with another secret, pointed at the group and claiming a member's name, runs
 * beside it: it tries to join, and sends its status, its nominations and vote requests to every member.
 * None of it gets in (AUTH keeps it out of the view, SYM_ENCRYPT drops what it sends), the group goes on
 * as before, and the members' logs say so a few times, not twice a second.
 */
class RogueMemberTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    @TempDir
    static Path root;

    static ProcessGroup g;

    @org.junit.jupiter.api.BeforeAll
    static void startGroup() throws Exception {
        g = ProcessGroup.start(root);
    }

    @org.junit.jupiter.api.AfterAll
    static void stopGroup() {
        if (g != null) g.close();
    }

    /** The group's member addresses, from a node's configuration. */
    static String members() throws java.io.IOException {
        Matcher m = Pattern.compile("members: \\[([^\\]]*)\\]").matcher(Files.readString(g.node("witness").dir.resolve("tandem.yaml")));
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    @Test
    void aProcessWithoutTheSecretCannotInjectStatusVotesMaintenanceOrChanges() throws Exception {
        ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
        ProcessGroup.awaitInSync(pair.secondary(), SOON);
        long term = ProcessGroup.getJson(pair.primary(), "/api/v1/node").getLong("term");
        long before = jgroupsLines(g.node("witness"));
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), dev.tandem.harness.RogueSender.class.getName(), "default", pair.primary().name, "10"));
        for (String a : members().split(",")) cmd.add(a.strip().replace("\"", ""));
        Process rogue = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(rogue.getInputStream().readAllBytes());
        assertThat(rogue.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Matcher sent = Pattern.compile("rogue sent (\\d+) messages to \\[([^\\]]*)\\]").matcher(out);
        assertThat(sent.find()).as(out).isTrue();
        assertThat(Integer.parseInt(sent.group(1))).as("the rogue did send: " + sent.group(0)).isPositive();
        assertThat(sent.group(2)).as("it found members to send to").contains("witness");
        for (NodeProcess n : g.nodes.values()) {
            JsonObject node = ProcessGroup.getJson(n, "/api/v1/node");
            assertThat(node.getLong("term")).as(n.name + ": no term of the rogue's was believed").isEqualTo(term);
            assertThat(node.getBoolean("maintenance")).as(n.name).isFalse();
        }
        assertThat(ProcessGroup.getJson(pair.primary(), "/api/v1/group").getString("primary")).isEqualTo(pair.primary().name);
        ProcessGroup.awaitInSync(pair.secondary(), SOON);
        for (NodeProcess n : java.util.List.of(pair.primary(), pair.secondary())) {
            assertThat(ProcessGroup.getJson(n, "/workflows/ipam/pools").encode()).as(n.name + ": no change of the rogue's was applied")
                    .doesNotContain("rogue");
        }
        assertThat(jgroupsLines(g.node("witness")) - before).as("JGroups warnings on the witness").isLessThan(20);
    }

    @Test
    void aProcessWithoutTheSecretCannotJoinOrSway_andTheLogsStayQuiet() throws Exception {
        {
            ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
            long term = ProcessGroup.getJson(pair.primary(), "/api/v1/node").getLong("term");
            int roguePort = NodeProcess.freePort();
            Path otherSecret = root.resolve("rogue.key");
            Files.createFile(otherSecret, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(otherSecret, "not-the-group-secret-at-all-42\n");
            String yaml = """
                    node: {name: node-a, kind: data, priority: 255, data_dir: %s}
                    group: {bind: "127.0.0.1:%d", members: [%s, "127.0.0.1:%d"], secret_file: %s, heartbeat_interval: 100ms}
                    http: {bind: "127.0.0.1:%d"}
                    workflows: {dir: %s}
                    """.formatted(root.resolve("rogue/data"), roguePort, members(), roguePort, otherSecret, NodeProcess.freePort(),
                    Files.createDirectories(root.resolve("rogue/workflows")));
            NodeProcess rogue = new NodeProcess("rogue", root.resolve("rogue"), NodeProcess.freePort(), yaml);
            long witnessLinesBefore = jgroupsLines(g.node("witness"));
            rogue.start();
            try {
                until("the rogue is up and knocking", SOON, () -> rogue.logTail(400).contains("view:") || rogue.logTail(400).contains("decision:"));
                // watch the group for a while the rogue runs: it must never show up, nor change anything
                long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                while (System.nanoTime() < end) {
                    JsonObject group = ProcessGroup.getJson(pair.primary(), "/api/v1/group");
                    assertThat(group.getString("primary")).isEqualTo(pair.primary().name);
                    assertThat(group.getLong("term")).as("no election was forced").isEqualTo(term);
                    assertThat(ProcessGroup.getJson(g.node("witness"), "/api/v1/node").getLong("term")).isEqualTo(term);
                    assertThat(pair.primary().status("/health/primary", Duration.ofSeconds(10))).isEqualTo(200);
                    NodeProcess.pause(500); // the pace of the watch
                }
                assertThat(ProcessGroup.getJson(pair.primary(), "/api/v1/group").getString("primary")).isEqualTo(pair.primary().name);
                for (NodeProcess n : g.nodes.values()) {
                    for (String line : n.logTail(2000).split("\n")) {
                        int at = line.indexOf("view: [");
                        if (at >= 0) {
                            String members = line.substring(at + 7, line.indexOf(']', at));
                            assertThat(members.split(",")).as(n.name + ": " + line).hasSizeLessThanOrEqualTo(3);
                        }
                    }
                }
                long logged = jgroupsLines(g.node("witness")) - witnessLinesBefore;
                assertThat(logged).as("JGroups warnings on the witness while the rogue ran 15+ s (at most one per kind per minute)").isLessThan(20);
                assertThat(rogue.logTail(2000)).doesNotContain("role SECONDARY").doesNotContain("role PRIMARY");
            } finally {
                rogue.close();
            }
        }
    }

    /**
     * Group traffic between the primary and a new incarnation of the secondary (replication batches one
     * way, acks the other), captured off the loopback interface with tcpdump, is sent again, as it was, to
     * where it went, by another process from connections of its own. Nothing it carries is believed a second time: the primary stays primary,
     * no write is lost or doubled, and the secondary ends with exactly the primary's data.
     */
    @Test
    void capturedGroupTrafficReplayedByAnotherProcessChangesNothing() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/tcpdump")),
                "tcpdump is not installed (.ci/run installs it)");
        ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
        NodeProcess p = pair.primary(), s = pair.secondary();
        ProcessGroup.awaitInSync(s, SOON);
        int primaryPort = groupPort(p), secondaryPort = groupPort(s);
        assertThat(ProcessGroup.post(p, "/workflows/ipam/pools", "{\"name\": \"replay\", \"cidr\": \"10.77.0.0/24\"}", SOON).statusCode())
                .isEqualTo(201);

        // a new incarnation of the secondary and the primary open a new connection: captured from its first byte. Which
        // of the two opens it, and so which way the bytes of interest go on it, is JGroups' choice: a capture whose
        // connection carries too little (the other side's data went the other way) is taken again
        java.util.Map.Entry<String, byte[]> whole = null;
        int writes = 0;
        for (int attempt = 1; attempt <= 6 && (whole == null || whole.getValue().length < 2000); attempt++) {
            Path pcap = root.resolve("group-" + attempt + ".pcap"), dumpLog = root.resolve("tcpdump-" + attempt + ".log");
            Process dump = new ProcessBuilder("/usr/bin/tcpdump", "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-Z", "root", "-w", pcap.toString(),
                    "tcp port " + primaryPort + " or tcp port " + secondaryPort).redirectErrorStream(true).redirectOutput(dumpLog.toFile()).start();
            try {
                until("tcpdump listens", SOON, () -> !dump.isAlive() || readQuietly(dumpLog).contains("listening on"));
                org.junit.jupiter.api.Assumptions.assumeTrue(dump.isAlive(), () -> "tcpdump cannot capture here: " + readQuietly(dumpLog));
                s.close();
                s.start();
                s.awaitStatus200("/health/ready", Duration.ofSeconds(120));
                ProcessGroup.awaitInSync(s, SOON);
                for (int i = 0; i < 20; i++, writes++) {
                    var r = ProcessGroup.post(p, "/workflows/ipam/pools/replay/allocations", "{\"owner\": \"o" + writes + "\"}", SOON);
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
                }
                // the capture ends once the secondary has them all: their batches and its acks are in it
                int expected = writes;
                until("the secondary has the writes", SOON, () -> ProcessGroup.getJson(s, "/workflows/ipam/pools/replay/allocations")
                        .getJsonArray("allocations").size() == expected);
            } finally {
                dump.destroy();
                dump.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            java.util.Map<String, byte[]> flows = dev.tandem.harness.Pcap.tcpPayloads(pcap);
            byte[] cookie = "bela".getBytes(java.nio.charset.StandardCharsets.US_ASCII); // how a JGroups TCP connection begins
            int n = attempt;
            flows.forEach((k, v) -> System.out.printf("capture %d: flow %s %d bytes, starts %s (primary %d, secondary %d)%n", n, k,
                    v.length, java.util.HexFormat.of().formatHex(v, 0, Math.min(8, v.length)), primaryPort, secondaryPort));
            whole = flows.entrySet().stream().filter(e -> e.getValue().length > 4 && java.util.Arrays.equals(e.getValue(), 0, 4, cookie, 0, 4))
                    .max(java.util.Comparator.comparingInt(e -> e.getValue().length)).orElse(null);
        }
        assertThat(whole).as("a whole connection was captured").isNotNull();
        byte[] captured = whole.getValue();
        int port = Integer.parseInt(whole.getKey().substring(whole.getKey().indexOf('>') + 1));
        assertThat(captured.length).as("a whole connection was captured: " + whole.getKey()).isGreaterThan(2000);
        assertThat(port).isIn(primaryPort, secondaryPort);
        int allocated = writes;
        Path stream = Files.write(root.resolve("captured.bin"), captured);
        String before = ProcessGroup.getJson(p, "/workflows/ipam/pools/replay/allocations").encode();
        long term = ProcessGroup.getJson(p, "/api/v1/node").getLong("term");

        Process replay = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                dev.tandem.harness.ReplayBytes.class.getName(), "127.0.0.1", String.valueOf(port), stream.toString(), "3")
                .redirectErrorStream(true).start();
        String out = new String(replay.getInputStream().readAllBytes());
        assertThat(replay.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(out).as(out).contains("replayed " + captured.length * 3L + " bytes");
        System.out.printf("replayed the captured connection %s (%d bytes) 3 times to port %d%n", whole.getKey(), captured.length, port);

        ProcessGroup.Pair after = g.awaitPrimaryAndSecondary(SOON);
        assertThat(after.primary().name).as("the primary stays primary").isEqualTo(p.name);
        assertThat(ProcessGroup.getJson(p, "/api/v1/node").getLong("term")).isEqualTo(term);
        ProcessGroup.awaitInSync(s, SOON);
        var more = ProcessGroup.post(p, "/workflows/ipam/pools/replay/allocations", "{\"owner\": \"after\"}", SOON);
        assertThat(more.statusCode()).as("the primary takes writes after the replay: " + more.body()).isEqualTo(201);
        String now = ProcessGroup.getJson(p, "/workflows/ipam/pools/replay/allocations").encode();
        assertThat(new JsonObject(now).getJsonArray("allocations")).as("no write lost or doubled").hasSize(allocated + 1);
        assertThat(new JsonObject(before).getJsonArray("allocations")).hasSize(allocated);
        until("the secondary holds exactly the primary's allocations", SOON,
                () -> ProcessGroup.getJson(s, "/workflows/ipam/pools/replay/allocations").encode().equals(now));
    }

    private static int groupPort(NodeProcess n) throws java.io.IOException {
        Matcher bind = Pattern.compile("bind: \"127\\.0\\.0\\.1:(\\d+)\"").matcher(Files.readString(n.dir.resolve("tandem.yaml")));
        assertThat(bind.find()).isTrue();
        return Integer.parseInt(bind.group(1));
    }

    private static String readQuietly(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static long jgroupsLines(NodeProcess n) throws java.io.IOException {
        Path log = n.dir.resolve("node.log");
        if (!Files.exists(log)) return 0;
        try (var lines = Files.lines(log)) {
            return lines.filter(l -> l.contains("[org.jgroups")).count();
        }
    }
}
