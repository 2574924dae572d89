package dev.tandem.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Http;
import dev.tandem.testing.SingleNode;
import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Python API (tandem.route, state, ha, HttpError) through real GraalPy contexts and real HTTP. */
class WorkflowApiTest {
    static TestNode node;
    static Http http;
    static final List<LogRecord> logs = new CopyOnWriteArrayList<>();
    static final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logs.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @RegisterExtension
    static final SingleNode single = SingleNode.serving("/workflows", "workflows.commands.report=[/bin/sh, -c, 'echo $TANDEM_NODE $TANDEM_WORKFLOW; echo complaint >&2; exit 3']", "workflows.commands.hang=[/bin/sleep, '30']")
            .around(() -> Logger.getLogger("dev.tandem").addHandler(capture), () -> Logger.getLogger("dev.tandem").removeHandler(capture));

    @BeforeAll
    static void start() {
        node = single.node();
        http = node.http;
    }

    @Test
    void stateRoundTripsJsonValuesAndEveryWriteGetsAnLsn() {
        long before = node.node.store().lastLsn();
        assertThat(http.send(put("/workflows/api/docs/things/k1", "{\"n\": 1, \"tags\": [\"a\", \"b\"], \"x\": null}")).status()).isEqualTo(200);
        assertThat(http.send(put("/workflows/api/docs/things/k2", "\"text\"")).status()).isEqualTo(200);
        assertThat(node.node.store().lastLsn()).isEqualTo(before + 2);
        assertThat(http.get("/workflows/api/docs/things/k1").json().getJsonObject("value"))
                .isEqualTo(new JsonObject("{\"n\": 1, \"tags\": [\"a\", \"b\"], \"x\": null}"));
        assertThat(http.get("/workflows/api/docs/things/k2").json().getString("value")).isEqualTo("text");
        JsonObject scan = http.get("/workflows/api/docs/things?prefix=k").json();
        assertThat(scan.getJsonArray("items")).hasSize(2);
        assertThat(scan.getInteger("count")).isEqualTo(2);
        assertThat(http.get("/workflows/api/docs/things?limit=1").json().getJsonArray("items")).hasSize(1);
        assertThat(http.delete("/workflows/api/docs/things/k2").json().getBoolean("deleted")).isTrue();
        assertThat(http.delete("/workflows/api/docs/things/k2").json().getBoolean("deleted")).isFalse();
        Http.Response missing = http.get("/workflows/api/docs/things/k2");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().getString("code")).isEqualTo("not_found");
        assertThat(missing.json().getString("message")).isEqualTo("no things/k2");
    }

    @Test
    void aWriteSaysWhichChangeItCommittedAndUnderWhichTerm_aReadSaysNothing() {
        Http.Response write = http.send(put("/workflows/api/docs/things/commit-header", "1"));
        assertThat(write.status()).isEqualTo(200);
        long term = node.node.group().term();
        assertThat(write.header("X-Tandem-Commit")).isEqualTo(node.node.group().name() + " term=" + term + " lsn=" + node.node.store().lastLsn());
        assertThat(term).isPositive();
        assertThat(http.get("/workflows/api/docs/things/commit-header").header("X-Tandem-Commit")).isNull();
    }

    @Test
    void aTransactionThatRaisesLeavesNothingBehind() {
        Http.Response refused = http.post("/workflows/api/atomic", "{\"fail\": \"http\"}");
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().getString("code")).isEqualTo("conflict");
        assertThat(http.post("/workflows/api/atomic", "{\"fail\": \"crash\"}").status()).isEqualTo(500);
        assertThat(http.get("/workflows/api/docs/atomic").json().getInteger("count")).isZero();
        assertThat(http.post("/workflows/api/atomic", "{}").status()).isEqualTo(201);
        assertThat(http.get("/workflows/api/docs/atomic").json().getInteger("count")).isEqualTo(2);
    }

    @Test
    void workflowsHaveSeparateNamespaces() {
        http.send(put("/workflows/api/docs/shared/key", "\"api's\""));
        assertThat(http.get("/workflows/other/peek/shared/key").json().getValue("value")).isNull();
    }

    @Test
    void everyReturnShapeIsHonoured() {
        assertThat(http.get("/workflows/api/shapes/dict").status()).isEqualTo(200);
        assertThat(http.get("/workflows/api/shapes/created").json().getInteger("b")).isEqualTo(2);
        Http.Response withHeaders = http.get("/workflows/api/shapes/headers");
        assertThat(withHeaders.status()).isEqualTo(202);
        assertThat(withHeaders.header("X-Workflow")).isEqualTo("api");
        assertThat(withHeaders.header("content-type")).isEqualTo("application/json");
        Http.Response empty = http.get("/workflows/api/shapes/empty");
        assertThat(empty.status()).isEqualTo(204);
        assertThat(empty.body()).isEmpty();
    }

    @Test
    void aRouteThatRaisesGives500WithAnErrorIdThatIsInTheLogAndNoTraceback() {
        java.util.Map<String, String> logged = java.util.Map.of("raise", "workflow.py\", line", "garbage", "body that is not JSON",
                "bad-status", "status must be an int from 100 to 599");
        for (String shape : logged.keySet()) {
            Http.Response r = http.get("/workflows/api/shapes/" + shape);
            assertThat(r.status()).isEqualTo(500);
            JsonObject body = r.json();
            assertThat(body.getString("code")).isEqualTo("workflow_error");
            String id = body.getString("error_id");
            assertThat(id).hasSize(8);
            assertThat(r.body()).doesNotContain("Traceback").doesNotContain("secret internal detail").doesNotContain("workflow.py");
            assertThat(logs).anySatisfy(rec -> assertThat(new java.util.logging.SimpleFormatter().formatMessage(rec))
                    .contains("[error " + id + "]").contains("Traceback").contains(logged.get(shape)));
        }
        assertThat(http.get("/workflows/api/shapes/dict").status()).as("the workflow keeps serving").isEqualTo(200);
    }

    @Test
    void theRequestObjectCarriesMethodPathQueryHeadersAndJson() {
        JsonObject echo = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                "http://127.0.0.1:" + node.node.httpPort() + "/workflows/api/echo?x=1&y=two")).header("X-Test", "yes").GET()).json();
        assertThat(echo.getString("method")).isEqualTo("GET");
        assertThat(echo.getString("path")).isEqualTo("/echo");
        assertThat(echo.getJsonObject("query")).isEqualTo(new JsonObject().put("x", "1").put("y", "two"));
        assertThat(echo.getString("agent")).isEqualTo("yes");
        assertThat(echo.getValue("json")).isNull();
        assertThat(http.post("/workflows/api/echo", "[1, 2]").json().getJsonArray("json")).isEqualTo(new JsonArray("[1,2]"));
    }

    @Test
    void haReportsThisNode() {
        JsonObject r = http.get("/workflows/api/node").json();
        assertThat(r.getJsonObject("node").getString("name")).isEqualTo("node-a");
        assertThat(r.getJsonObject("node").getString("role")).isEqualTo("PRIMARY");
        assertThat(r.getJsonObject("group").getString("primary")).isEqualTo("node-a");
    }

    @Test
    void roleChangesReachTheHooksOnceEachInOrderStartingWithTheRoleAtLoad() {
        JsonArray calls = dev.tandem.testing.Await.value("two role calls", java.time.Duration.ofSeconds(10),
                () -> http.get("/workflows/api/role-calls").json().getJsonArray("calls"), c -> c.size() >= 2);
        // loaded before the node joined its group (NOT_IN_GROUP), then elected primary of term 1
        assertThat(calls).containsExactly(new JsonArray().addNull().add("NOT_IN_GROUP").add(0),
                new JsonArray().add("NOT_IN_GROUP").add("PRIMARY").add(1));
    }

    @Test
    void workflowsCannotReadTheHost() {
        assertThat(http.get("/workflows/api/host-file").json().getString("denied")).isEqualTo("PermissionError");
    }

    @Test
    void aWorkflowThatFailsToLoadIsReportedWithItsLineAndTheOthersKeepServing() {
        Workflow broken = node.node.workflows().get("broken");
        assertThat(broken.loaded()).isFalse();
        assertThat(broken.loadError()).contains("SyntaxError").contains("workflow.py").contains("line 4");
        Http.Response r = http.get("/workflows/broken/");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.json().getString("message")).contains("failed to load").contains("SyntaxError");
        assertThat(http.get("/workflows/api/shapes/dict").status()).isEqualTo(200);
    }

    @Test
    void concurrentRequestsToOneWorkflowAreServedCorrectly() throws Exception {
        int clients = 16, each = 25;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<Integer>>> results = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                results.add(pool.submit(() -> {
                    List<Integer> seen = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        Http.Response r = http.post("/workflows/api/counter", "{}");
                        assertThat(r.status()).isEqualTo(200);
                        seen.add(r.json().getInteger("n"));
                    }
                    return seen;
                }));
            }
            List<Integer> all = new ArrayList<>();
            for (Future<List<Integer>> f : results) all.addAll(f.get());
            assertThat(all).doesNotHaveDuplicates().hasSize(clients * each);
            assertThat(http.get("/workflows/api/docs/counter/n").json().getInteger("value")).isEqualTo(clients * each);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aWorkflowRunsOnlyConfiguredHostCommands_boundedInTime_andEachRunIsAnEvent() {
        assertThat(http.get("/workflows/api/host").json().getJsonArray("commands").getList()).containsExactly("hang", "report");

        JsonObject r = http.post("/workflows/api/host/report", "{}").json();
        assertThat(r.getInteger("returncode")).isEqualTo(3);
        assertThat(r.getString("stdout")).isEqualTo("node-a api\n"); // the fixed environment, no shell expansion of ours
        assertThat(r.getString("stderr")).isEqualTo("complaint\n");

        long t0 = System.nanoTime();
        JsonObject hung = http.post("/workflows/api/host/hang", "{\"timeout\": 0.3}").json();
        assertThat(hung.getBoolean("timed_out")).isTrue();
        assertThat(hung.getInteger("returncode")).isEqualTo(-1);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("killed at its timeout, not after 30 s").isLessThan(10_000);

        var refused = http.post("/workflows/api/host/rm", "{}");
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().getString("message")).contains("'rm' is not configured", "workflows.commands.rm", "hang, report");

        JsonArray events = new JsonArray(http.get("/api/v1/events?limit=1000").json().getJsonArray("events").getList());
        assertThat(events.stream().map(e -> (JsonObject) e).filter(e -> e.getString("type").equals("COMMAND_RUN"))
                .map(e -> e.getJsonObject("data").getString("command")).toList()).contains("report", "hang");
    }

    private java.net.http.HttpRequest.Builder put(String path, String json) {
        return java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.node.httpPort() + path))
                .header("content-type", "application/json").PUT(java.net.http.HttpRequest.BodyPublishers.ofString(json));
    }
}
