package dev.tandem.bench;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark: role change to hook start. Planned switchovers back and forth on real processes; each
 * node's event log has the time of every role change (NODE_ROLE_CHANGED) and the start of every hook run
 * (HOOK_RUN, here the scheduler sample's role hook); prints p50/p99 of the difference.
 *
 * <pre>bin/tandem-bench hooks [--switchovers 100]</pre>
 */
public final class HookLatencyBench {
    public static void main(String[] args) throws Exception {
        int switchovers = 100;
        if (args.length == 2 && args[0].equals("--switchovers")) switchovers = Integer.parseInt(args[1]);
        try (ProcessGroup g = ProcessGroup.start(Files.createTempDirectory("tandem-hooks-"))) {
            for (int i = 0; i < switchovers; i++) {
                ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(Duration.ofSeconds(30));
                NodeProcess p = pair.primary(), s = pair.secondary();
                ProcessGroup.switchover(p, s.name);
            }
            // a hook run is logged when it ends: wait until each node logged the one for its last role change
            dev.tandem.testing.Await.until("the hooks of the last role changes logged on both nodes", Duration.ofSeconds(30),
                    () -> List.of("node-a", "node-b").stream().allMatch(name -> lastRoleChangeHookLogged(events(g.node(name)))));
            List<Long> latencies = new ArrayList<>();
            for (String name : List.of("node-a", "node-b")) {
                List<JsonObject> events = events(g.node(name));
                // a hook run is logged when it ends, so pair it with its role change by term, not by position
                java.util.Map<Long, Long> changedAt = new java.util.HashMap<>();
                for (JsonObject e : events) {
                    JsonObject d = e.getJsonObject("data");
                    if (e.getString("type").equals("NODE_ROLE_CHANGED")) {
                        changedAt.put(d.getLong("term"), e.getLong("time"));
                    } else if (e.getString("type").equals("HOOK_RUN") && d.getString("event").equals("NODE_ROLE_CHANGED")
                            && changedAt.containsKey(d.getLong("term"))) {
                        latencies.add(d.getLong("start") - changedAt.remove(d.getLong("term")));
                    }
                }
            }
            long[] ms = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("role change -> hook start over %d role changes (%d switchovers, real processes): min %d  p50 %d  p99 %d  max %d ms%n",
                    ms.length, switchovers, ms[0], FailoverBench.pct(ms, 50), FailoverBench.pct(ms, 99), ms[ms.length - 1]);
            String cmd = "bin/tandem-bench hooks --switchovers " + switchovers;
            Figures.samples("hooks", "role change -> hook start", ms, cmd);
            for (NodeProcess n : g.nodes.values()) Figures.value("memory", n.name + " RSS after the switchovers", "MiB", n.rssMiB(), cmd);
        }
    }

    /** Whether a HOOK_RUN of NODE_ROLE_CHANGED follows the last NODE_ROLE_CHANGED, for its term (a demoted node's is its old term). */
    static boolean lastRoleChangeHookLogged(List<JsonObject> events) {
        int last = -1;
        for (int i = 0; i < events.size(); i++) if (events.get(i).getString("type").equals("NODE_ROLE_CHANGED")) last = i;
        if (last < 0) return true;
        long term = events.get(last).getJsonObject("data").getLong("term");
        return events.subList(last + 1, events.size()).stream().anyMatch(e -> e.getString("type").equals("HOOK_RUN")
                && "NODE_ROLE_CHANGED".equals(e.getJsonObject("data").getString("event")) && e.getJsonObject("data").getLong("term") == term);
    }

    /** Every event of the node's log, page by page. */
    private static List<JsonObject> events(NodeProcess n) {
        List<JsonObject> events = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonObject page = ProcessGroup.getJson(n, "/api/v1/events?after=" + after + "&limit=1000");
            if (page.getJsonArray("events").isEmpty()) return events;
            page.getJsonArray("events").forEach(o -> events.add((JsonObject) o));
            after = page.getLong("last_id");
        }
    }
}
