package dev.tandem.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Http;
import dev.tandem.testing.SingleNode;
import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hook delivery through real GraalPy: BlueCat-style hooks run unchanged; hooks that hang, raise or return garbage are contained. */
class HookDeliveryTest {
    static TestNode node;
    static Http http;

    @RegisterExtension
    static final SingleNode single = SingleNode.serving("/hook-workflows", "workflows.hook_timeout=2s");

    @BeforeAll
    static void start() {
        node = single.node();
        http = node.http;
    }

    static JsonObject state(Predicate<JsonObject> until) {
        return dev.tandem.testing.Await.value("the workflow's state", java.time.Duration.ofSeconds(15),
                () -> http.get("/workflows/bluecat/state").json(), until);
    }

    static List<JsonObject> hookRuns(String hook) {
        JsonArray all = node.node.events().after(0, 10_000);
        return all.stream().map(o -> (JsonObject) o).filter(e -> e.getString("type").equals("HOOK_RUN"))
                .map(e -> e.getJsonObject("data")).filter(d -> d.getString("hook").endsWith(hook)).toList();
    }

    @Test
    void aBlueCatStyleRoleHookRunsUnchanged() {
        JsonObject s = state(x -> x.getJsonArray("calls").size() >= 2);
        assertThat(s.getJsonArray("calls")).containsExactly(new JsonArray().addNull().add("NOT_IN_GROUP").add(0),
                new JsonArray().add("NOT_IN_GROUP").add("PRIMARY").add(1));
        assertThat(s.getString("role")).isEqualTo("active");
        assertThat(hookRuns("role_monitoring")).hasSize(2).allSatisfy(r -> assertThat(r.getString("outcome")).isEqualTo("ok"));
    }

    @Test
    void hooksThatHangRaiseOrReturnGarbageAreContainedAndLaterEventsStillArrive() throws Exception {
        long t0 = System.nanoTime();
        node.node.group().setMaintenance(true).get();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("the group thread does not wait for hooks (one hangs for the 2 s timeout)").isLessThan(1500);
        node.node.group().setMaintenance(false).get();
        JsonObject s = state(x -> x.getJsonArray("maintenance").size() >= 2);
        assertThat(s.getJsonArray("maintenance")).as("both events reached the third hook, in order; runs: %s",
                node.node.events().after(0, 1000)).containsExactly(true, false);

        List<JsonObject> hung = hookRuns("never_returns");
        assertThat(hung).extracting(r -> r.getString("outcome")).containsExactly("timeout", "ok");
        assertThat(hung.get(0).getLong("duration_ms")).isBetween(1900L, 10_000L);
        assertThat(hung.get(0).getString("error")).contains("hook_timeout");

        List<JsonObject> raised = hookRuns("raises");
        assertThat(raised).extracting(r -> r.getString("outcome")).containsExactly("error", "error");
        assertThat(raised.get(0).getString("error")).contains("Traceback").contains("ValueError: hook failed on purpose").contains("workflow.py");
        assertThat(raised.get(0).getString("output")).isEqualTo("about to fail\n");
        assertThat(raised.get(0).getString("event")).isEqualTo("MAINTENANCE_CHANGED");

        assertThat(hookRuns("returns_garbage")).extracting(r -> r.getString("outcome")).containsExactly("ok", "ok");
        assertThat(http.get("/workflows/bluecat/state").status()).as("the workflow keeps serving").isEqualTo(200);
    }

    @Test
    void theEventLogListsHookRunsAndRoleChangesThroughTheApi() {
        state(x -> x.getJsonArray("calls").size() >= 2);
        JsonObject page = http.get("/api/v1/events?after=0&limit=1000").json();
        assertThat(page.getJsonArray("events").stream().map(o -> ((JsonObject) o).getString("type")))
                .contains("NODE_ROLE_CHANGED", "HOOK_RUN");
        long last = page.getLong("last_id");
        assertThat(http.get("/api/v1/events?after=" + last).json().getJsonArray("events")).isEmpty();
        assertThat(http.get("/api/v1/events?after=x").status()).isEqualTo(400);
    }
}
