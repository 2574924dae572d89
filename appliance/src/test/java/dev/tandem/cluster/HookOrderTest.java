package dev.tandem.cluster;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.api.NodeRole;
import dev.tandem.node.TandemNode;
import dev.tandem.testing.Http;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A burst of role changes (quick switchovers back and forth) reaches each node's hook exactly once per change, in term order. */
class HookOrderTest {
    @TempDir
    Path root;

    @Test
    void everyRoleChangeReachesTheHookOnceInOrder() throws Exception {
        Path workflows = Path.of(HookOrderTest.class.getResource("/hook-workflows").toURI());
        try (LocalGroup g = LocalGroup.start(root, workflows, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            until("a primary and a caught-up secondary", Duration.ofSeconds(60), () ->
                    (g.role("node-a") == NodeRole.PRIMARY && g.nodes.get("node-b").replication().caughtUp())
                            || (g.role("node-b") == NodeRole.PRIMARY && g.nodes.get("node-a").replication().caughtUp()));
            String first = g.role("node-a") == NodeRole.PRIMARY ? "node-b" : "node-a";
            String second = first.equals("node-a") ? "node-b" : "node-a";
            for (int i = 0; i < 10; i++) {
                String target = i % 2 == 0 ? first : second;
                var r = g.group("witness").switchover(target).get();
                assertThat(r.getBoolean("ok")).as(r.encode()).isTrue();
                until(target + " primary", Duration.ofSeconds(60), () -> g.role(target) == NodeRole.PRIMARY);
            }
            for (String name : new String[] {"node-a", "node-b"}) {
                TandemNode n = g.nodes.get(name);
                long changes = n.events().after(0, 10_000).stream().filter(e -> ((JsonObject) e).getString("type").equals("NODE_ROLE_CHANGED")).count();
                Http http = Http.local(n.httpPort());
                JsonArray calls = dev.tandem.testing.Await.value(name + ": the initial call plus one per role change", Duration.ofSeconds(15),
                        () -> http.get("/workflows/bluecat/state").json().getJsonArray("calls"), c -> c.size() >= changes + 1);
                assertThat(calls).as(name + ": the initial call plus one per role change").hasSize((int) changes + 1);
                assertThat(calls.getJsonArray(0).getValue(0)).isNull();
                for (int i = 1; i < calls.size(); i++) {
                    JsonArray prev = calls.getJsonArray(i - 1), cur = calls.getJsonArray(i);
                    assertThat(cur.getString(0)).as(name + " call " + i + " continues from the previous one").isEqualTo(prev.getString(1));
                    assertThat(cur.getLong(2)).as(name + " terms in order").isGreaterThanOrEqualTo(prev.getLong(2));
                }
            }
        }
    }
}
