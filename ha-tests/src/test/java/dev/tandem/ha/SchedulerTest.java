package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scheduler sample across switchovers and a kill -9: runs only on the primary, never on two nodes in one term. */
class SchedulerTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    @TempDir
    Path root;

    static long runs(NodeProcess n) {
        return ProcessGroup.getJson(n, "/workflows/scheduler/").getLong("runs");
    }

    @Test
    void theJobFollowsThePrimaryAndNeverRunsTwiceAtOnce() throws Exception {
        try (ProcessGroup g = ProcessGroup.start(root)) {
            NodeProcess p = g.awaitPrimary(SOON);
            until("the job runs on the primary", SOON, () -> runs(p) >= 3);
            assertThat(ProcessGroup.getJson(p, "/workflows/scheduler/").getBoolean("running_here")).isTrue();
            for (int i = 0; i < 4; i++) {
                ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
                NodeProcess primary = pair.primary(), other = pair.secondary();
                ProcessGroup.switchover(primary, other.name);
                long before = runs(other);
                until("the job moved to " + other.name, SOON, () -> runs(other) >= before + 3);
                assertThat(ProcessGroup.getJson(primary, "/workflows/scheduler/").getBoolean("running_here")).as("stopped on the old primary").isFalse();
            }
            NodeProcess primary = g.awaitPrimary(SOON);
            NodeProcess other = g.other(primary);
            primary.kill9();
            assertThat(g.awaitPrimary(SOON).name).isEqualTo(other.name);
            long before = runs(other);
            until("the job runs on the new primary", SOON, () -> runs(other) >= before + 3);

            JsonArray all = ProcessGroup.getJson(other, "/workflows/scheduler/runs").getJsonArray("runs");
            Map<Long, String> nodeOfTerm = new HashMap<>();
            long last = 0;
            for (Object o : all) {
                JsonObject run = (JsonObject) o;
                assertThat(run.getLong("run")).as("runs are consecutive").isEqualTo(last == 0 ? run.getLong("run") : last + 1);
                last = run.getLong("run");
                String earlier = nodeOfTerm.putIfAbsent(run.getLong("term"), run.getString("node"));
                assertThat(earlier == null || earlier.equals(run.getString("node"))).as("term %d ran on one node only", run.getLong("term")).isTrue();
            }
            assertThat(nodeOfTerm.values()).as("the job ran on both nodes over time").contains("node-a", "node-b");
        }
    }
}
