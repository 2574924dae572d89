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
 * Real processes, 20 planned failovers: each node's BlueCat-style role hook is called exactly once per
 * role change of that node (counted against the node's own record of its role changes), in term order.
 */
class HookExactlyOnceTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    @TempDir
    Path root;

    @Test
    void exactlyOneCallPerNodePerRoleChangeAcross20Failovers() throws Exception {
        Path workflows = NodeProcess.home().resolve("appliance/src/test/resources/hook-workflows");
        try (ProcessGroup g = ProcessGroup.start(root, workflows)) {
            for (int i = 0; i < 20; i++) {
                ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(SOON);
                NodeProcess p = pair.primary(), s = pair.secondary();
                ProcessGroup.switchover(p, s.name);
            }
            for (String name : new String[] {"node-a", "node-b"}) {
                NodeProcess n = g.node(name);
                long changes = ProcessGroup.getJson(n, "/api/v1/events?limit=1000").getJsonArray("events").stream()
                        .filter(e -> ((JsonObject) e).getString("type").equals("NODE_ROLE_CHANGED")).count();
                assertThat(changes).as(name + " changed role at least 20 times").isGreaterThanOrEqualTo(20);
                until(name + ": every call delivered", SOON, () -> calls(n).size() == changes + 1);
                JsonArray calls = calls(n);
                assertThat(calls.getJsonArray(0).getValue(0)).as("the first call is the initial one").isNull();
                for (int i = 1; i < calls.size(); i++) {
                    assertThat(calls.getJsonArray(i).getString(0)).isEqualTo(calls.getJsonArray(i - 1).getString(1));
                    assertThat(calls.getJsonArray(i).getLong(2)).isGreaterThanOrEqualTo(calls.getJsonArray(i - 1).getLong(2));
                }
            }
        }
    }

    static JsonArray calls(NodeProcess n) {
        return ProcessGroup.getJson(n, "/workflows/bluecat/state").getJsonArray("calls");
    }
}
