package dev.tandem.cluster;

import dev.tandem.api.NodeRole;
import dev.tandem.config.ConfigLoader;
import dev.tandem.node.TandemNode;
import dev.tandem.testing.Await;
import dev.tandem.testing.Runbook;
import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.protocols.DISCARD;

/**
 * Real nodes with real JChannels in this JVM; the network between them is cut with DISCARD. It speaks the
 * {@link Runbook}, as the group of real processes in ha-tests does; a kill -9 here is a node cut off and
 * then closed without a word (no signals in one JVM: freezes and real kills are ha-tests' business).
 */
final class LocalGroup implements AutoCloseable, Runbook {
    final Map<String, TandemNode> nodes = new LinkedHashMap<>();
    private final Set<String> down = ConcurrentHashMap.newKeySet();
    private volatile long lastFault = System.nanoTime();
    /** group.members as the nodes were given it, e.g. "[127.0.0.1:7800,127.0.0.1:7801]". */
    String members;

    /** @param specs "node-a:data", "witness:witness", ... */
    static LocalGroup start(Path root, String quorum, String... specs) throws Exception {
        return start(root, Files.createDirectories(root.resolve("no-workflows")), quorum, specs);
    }

    static LocalGroup start(Path root, Path workflows, String quorum, String... specs) throws Exception {
        return start(root, workflows, quorum, List.of(), specs);
    }

    /** @param sets more --set overrides for every node */
    static LocalGroup start(Path root, Path workflows, String quorum, List<String> sets, String... specs) throws Exception {
        LocalGroup g = new LocalGroup();
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < specs.length; i++) ports.add(TestNode.freePort());
        String members = ports.stream().map(p -> "127.0.0.1:" + p).toList().toString().replace(" ", "");
        g.members = members;
        Path secret = TestNode.secret(root);
        List<Thread> starters = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        for (int i = 0; i < specs.length; i++) {
            String[] s = specs[i].split(":");
            List<String> all = new ArrayList<>(List.of("node.name=" + s[0], "node.kind=" + s[1], "node.data_dir=" + root.resolve(s[0]),
                    "group.bind=127.0.0.1:" + ports.get(i), "group.members=" + members, "group.secret_file=" + secret,
                    "group.quorum=" + quorum, "http.bind=127.0.0.1:0", "workflows.dir=" + workflows));
            all.addAll(sets);
            var config = ConfigLoader.load(null, all);
            TandemNode node = new TandemNode(config, true);
            g.nodes.put(s[0], node);
            Thread t = new Thread(() -> {
                try {
                    node.start();
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            t.start();
            starters.add(t);
        }
        for (Thread t : starters) t.join();
        if (!failures.isEmpty()) throw failures.get(0);
        return g;
    }

    GroupMember group(String name) {
        return nodes.get(name).group();
    }

    NodeRole role(String name) {
        return group(name).role();
    }

    /** Cuts {@code side} off from every other node, both directions. */
    @Override
    public void isolate(String... side) {
        lastFault = System.nanoTime();
        List<String> in = List.of(side);
        for (String a : nodes.keySet()) {
            for (String b : nodes.keySet()) {
                if (in.contains(a) != in.contains(b)) discard(a).addIgnoreMember(address(b));
            }
        }
    }

    @Override
    public void heal() {
        for (String a : nodes.keySet()) discard(a).resetIgnoredMembers();
    }

    private DISCARD discard(String name) {
        return group(name).channel().jgroups().getProtocolStack().findProtocol(DISCARD.class);
    }

    private Address address(String name) {
        return group(name).channel().jgroups().getAddress();
    }

    /** Waits for one data node to be primary and the other its secondary; returns the primary's name. */
    String awaitPrimaryAndSecondary(Duration deadline) {
        Await.until("one primary and one secondary", deadline, () ->
                (role("node-a") == NodeRole.PRIMARY && role("node-b") == NodeRole.SECONDARY) || (role("node-b") == NodeRole.PRIMARY && role("node-a") == NodeRole.SECONDARY),
                this::describe);
        return role("node-a") == NodeRole.PRIMARY ? "node-a" : "node-b";
    }

    static String other(String name) {
        return name.equals("node-a") ? "node-b" : "node-a";
    }

    String primaries() {
        StringBuilder b = new StringBuilder();
        nodes.forEach((n, node) -> b.append(n).append('=').append(node.group().role()).append('/').append(node.group().term()).append(' '));
        return b.toString().trim();
    }

    // ------------------------------------------------------------------ the runbook

    @Override
    public void kill9(String node) {
        isolate(node); // no resign, no last message: the others find out as they would after a kill -9
        down.add(node);
        nodes.get(node).close();
    }

    @Override
    public JsonObject switchover(String via, String target) {
        lastFault = System.nanoTime();
        try {
            return group(via).switchover(target).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("switchover via " + via + " to " + target + ": " + e, e);
        }
    }

    @Override
    public void maintenance(String via, boolean on) {
        try {
            group(via).setMaintenance(on).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("maintenance " + on + " via " + via + ": " + e, e);
        }
    }

    @Override
    public boolean acknowledges(String node) {
        return !down.contains(node) && group(node).mayAcknowledge();
    }

    @Override
    public String roleOf(String node) {
        return down.contains(node) ? "DOWN" : role(node).name();
    }

    @Override
    public String decision(String node) {
        return group(node).lastDecision();
    }

    @Override
    public String describe() {
        StringBuilder b = new StringBuilder("the group now:");
        nodes.forEach((n, node) -> b.append("\n  ").append(n).append(": ").append(roleOf(n)).append(" term ").append(node.group().term())
                .append(", decision: ").append(node.group().lastDecision()));
        return b.toString();
    }

    @Override
    public long lastFaultNanos() {
        return lastFault;
    }

    @Override
    public void close() {
        nodes.forEach((n, node) -> {
            if (!down.contains(n)) node.close();
        });
    }
}
