package dev.tandem.campaign;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import dev.tandem.testing.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The rules over the whole group that no workload owns: G1 over the acknowledgements, and the hooks. */
final class Checker {
    private Checker() {}

    /** The acknowledgements one node gave under one term. */
    private record Epoch(String node, long term, long firstComplete, long lastInvoke, Op sample) {}

    /**
     * G1 (quorum: majority): no two nodes acknowledged writes at the same time. The acknowledgements are grouped by
     * (node, term) from X-Tandem-Commit. Two nodes acknowledging in one term is a violation at once. So is a pair
     * of epochs that each had an acknowledgement certainly after one of the other: some request of each was sent
     * after a request of the other had been answered.
     */
    static void noTwoPrimaries(List<Op> ops, List<String> violations) {
        Map<String, Epoch> epochs = new HashMap<>();
        Map<Long, String> nodeOfTerm = new HashMap<>();
        for (Op o : ops) {
            if (o.outcome() != Op.Outcome.OK || o.servedBy() == null) continue;
            String other = nodeOfTerm.putIfAbsent(o.term(), o.servedBy());
            if (other != null && !other.equals(o.servedBy())) {
                violations.add("G1: " + other + " and " + o.servedBy() + " both acknowledged writes in term " + o.term() + ", e.g. " + o);
            }
            epochs.merge(o.servedBy() + " " + o.term(), new Epoch(o.servedBy(), o.term(), o.complete(), o.invoke(), o),
                    (a, b) -> new Epoch(a.node(), a.term(), Math.min(a.firstComplete(), b.firstComplete()), Math.max(a.lastInvoke(), b.lastInvoke()), a.sample()));
        }
        List<Epoch> list = new ArrayList<>(epochs.values());
        for (int i = 0; i < list.size(); i++) {
            for (int j = i + 1; j < list.size(); j++) {
                Epoch a = list.get(i), b = list.get(j);
                if (a.node().equals(b.node())) continue;
                if (a.lastInvoke() > b.firstComplete() && b.lastInvoke() > a.firstComplete()) {
                    violations.add("G1: " + a.node() + " (term " + a.term() + ") and " + b.node() + " (term " + b.term()
                            + ") acknowledged writes in overlapping intervals, e.g. " + a.sample() + " and " + b.sample());
                }
            }
        }
    }

    /**
     * Hooks ran exactly once per role change per node: the chaos workflow's record of its role hook's calls (since
     * the process started) against the node's own NODE_ROLE_CHANGED events, in order, the first call being the
     * role at load. The calls of a hook that hangs arrive once hook_timeout stopped the one before.
     */
    static void hooksOncePerRoleChange(List<NodeProcess> dataNodes, Duration deadline, List<String> violations) {
        for (NodeProcess n : dataNodes) {
            long changes = ProcessGroup.getJsonOk(n, "/api/v1/events?limit=10000", Duration.ofSeconds(20)).getJsonArray("events").stream()
                    .filter(e -> ((JsonObject) e).getString("type").equals("NODE_ROLE_CHANGED")).count();
            JsonArray calls;
            try {
                calls = Await.value(n.name + ": one hook call per role change", deadline,
                        () -> ProcessGroup.getJson(n, "/workflows/chaos/state", Duration.ofSeconds(10)).getJsonArray("calls"),
                        c -> c.size() >= changes + 1);
            } catch (AssertionError e) {
                violations.add("hooks: " + n.name + " changed role " + changes + " times since it started, but its hook ran "
                        + ProcessGroup.getJson(n, "/workflows/chaos/state", Duration.ofSeconds(10)).getJsonArray("calls").size()
                        + " times (expected one more, for the role at load)");
                continue;
            }
            if (calls.size() != changes + 1) {
                violations.add("hooks: " + n.name + " ran its role hook " + calls.size() + " times for " + changes + " role changes (+1 at load)");
            }
            if (calls.isEmpty() || calls.getJsonArray(0).getValue(0) != null) {
                violations.add("hooks: " + n.name + "'s first hook call is not the role at load: " + calls);
                continue;
            }
            for (int i = 1; i < calls.size(); i++) {
                JsonArray prev = calls.getJsonArray(i - 1), cur = calls.getJsonArray(i);
                if (!String.valueOf(cur.getValue(0)).equals(String.valueOf(prev.getValue(1))) || cur.getLong(2) < prev.getLong(2)) {
                    violations.add("hooks: " + n.name + "'s hook calls " + (i - 1) + " and " + i + " do not follow each other: " + prev + ", " + cur);
                    break;
                }
            }
        }
    }
}
