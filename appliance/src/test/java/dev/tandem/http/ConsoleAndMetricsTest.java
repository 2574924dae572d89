package dev.tandem.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Http;
import dev.tandem.testing.SingleNode;
import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.hawkular.agent.prometheus.text.TextPrometheusMetricsProcessor;
import org.hawkular.agent.prometheus.types.MetricFamily;
import org.hawkular.agent.prometheus.walkers.CollectorPrometheusMetricsWalker;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The console's static files and their headers, CORS limited to the group's own node URLs, the
 * facts the console reads (who answered, health verdicts), and /metrics (token, Prometheus text).
 */
class ConsoleAndMetricsTest {
    static TestNode node;
    static Http http;
    static String self;

    @RegisterExtension
    static final SingleNode single = SingleNode.serving("/workflows");

    @BeforeAll
    static void start() {
        node = single.node();
        http = node.http;
        self = "http://127.0.0.1:" + node.node.httpPort();
    }

    @Test
    void theConsoleIsServedFromTheJar_withAPolicyThatAllowsOnlyTheGroupsNodes() {
        Http.Response index = http.anonymous().get("/console/");
        assertThat(index.status()).isEqualTo(200);
        assertThat(index.header("content-type")).startsWith("text/html");
        assertThat(index.body()).contains("console.js");
        String csp = index.header("content-security-policy");
        assertThat(csp).contains("default-src 'none'").contains("script-src 'self'").contains("connect-src 'self' " + self)
                .contains("frame-ancestors 'none'");
        assertThat(index.header("x-content-type-options")).isEqualTo("nosniff");
        assertThat(http.anonymous().get("/console/console.js").status()).isEqualTo(200);
        assertThat(http.anonymous().get("/console/console.css").status()).isEqualTo(200);
        Http.Response bare = http.anonymous().send(http.request("/console").GET());
        assertThat(bare.status()).isEqualTo(302);
        assertThat(bare.header("location")).isEqualTo("/console/");
        assertThat(http.anonymous().get("/console/../admin.token").status()).isNotEqualTo(200);
        assertThat(http.anonymous().get("/console/nothing-here.js").status()).isEqualTo(404);
    }

    @Test
    void corsAllowsTheGroupsOwnNodeUrls_andNoOtherOrigin() {
        Http.Response preflight = http.anonymous().send(http.request("/api/v1/group").header("Origin", self)
                .header("Access-Control-Request-Method", "GET").header("Access-Control-Request-Headers", "authorization")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
        assertThat(preflight.status()).as("a preflight needs no token").isEqualTo(204);
        assertThat(preflight.header("access-control-allow-origin")).isEqualTo(self);
        assertThat(preflight.header("access-control-allow-headers")).containsIgnoringCase("authorization");

        Http.Response evil = http.anonymous().send(http.request("/api/v1/group").header("Origin", "http://evil.example:8080")
                .header("Access-Control-Request-Method", "POST").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
        assertThat(evil.status()).isEqualTo(204);
        assertThat(evil.header("access-control-allow-origin")).as("no CORS grant for a foreign origin").isNull();

        Http.Response read = http.send(http.request("/api/v1/group").header("Origin", self).GET());
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.header("access-control-allow-origin")).isEqualTo(self);
        Http.Response foreign = http.send(http.request("/api/v1/group").header("Origin", "http://127.0.0.1:1").GET());
        assertThat(foreign.header("access-control-allow-origin")).isNull();
        long audits = node.node.events().after(0, 10_000).stream().map(o -> (JsonObject) o)
                .filter(e -> e.getString("type").equals("AUDIT") && e.getJsonObject("data").getString("action").startsWith("OPTIONS")).count();
        assertThat(audits).as("a preflight is not an operator action").isZero();
    }

    @Test
    void theGroupSaysWhoAnsweredAndWhen_andTheNodesHealthVerdicts() {
        JsonObject g = http.get("/api/v1/group").json();
        assertThat(g.getString("seen_by")).isEqualTo("node-a");
        assertThat(g.getLong("seen_at_ms")).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
        assertThat(g.getLong("divergent")).isZero();
        JsonObject me = g.getJsonArray("nodes").getJsonObject(0);
        assertThat(me.getJsonObject("health").getMap()).containsEntry("live", true).containsEntry("ready", true).containsEntry("primary", true)
                .containsEntry("secondary", false);
        JsonObject node = http.get("/api/v1/node").json();
        assertThat(node.getJsonObject("health").getBoolean("primary")).isTrue();
        // the real reason, not just "not the initial line": the group of one decided its primary is there (on the
        // tick after its election, which may come just after the node started)
        String expected = "no action: primary node-a (term " + node.getLong("term") + ") is in the view";
        dev.tandem.testing.Await.value("the decision of a group of one", java.time.Duration.ofSeconds(10),
                () -> http.get("/api/v1/group").json().getString("last_decision"), expected::equals);
    }

    @Test
    void metricsNeedAToken_andParseAsPrometheusText_withTheGroupsFacts() throws Exception {
        assertThat(http.anonymous().get("/metrics").status()).isEqualTo(401);
        assertThat(http.send(http.request("/workflows/api/docs/c/k").header("content-type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"v\": 1}"))).status()).isLessThan(300);
        Http.Response r = http.get("/metrics");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).startsWith("text/plain");
        Map<String, MetricFamily> families = parse(r.body());
        assertThat(families).containsKeys("tandem_role", "tandem_primary", "tandem_term", "tandem_lsn", "tandem_replication_lag_changes",
                "tandem_replication_lag_seconds", "tandem_sync_degraded", "tandem_voters_visible", "tandem_voters_configured",
                "tandem_peers_reachable", "tandem_maintenance", "tandem_last_role_change_timestamp_seconds", "tandem_role_changes_total",
                "tandem_failover_duration_seconds", "tandem_workflow_requests_seconds", "jvm_memory_used_bytes", "process_cpu_usage",
                "vertx_http_server_requests_total");
        Map<String, Double> roles = new HashMap<>();
        families.get("tandem_role").getMetrics().forEach(m -> roles.put(m.getLabels().get("role"),
                ((org.hawkular.agent.prometheus.types.Gauge) m).getValue()));
        assertThat(roles).containsEntry("PRIMARY", 1.0).containsEntry("SECONDARY", 0.0).containsEntry("WITNESS", 0.0);
        var request = families.get("tandem_workflow_requests_seconds").getMetrics().stream()
                .filter(m -> "PUT /docs/{coll}/{key}".equals(m.getLabels().get("route"))).findFirst().orElseThrow();
        assertThat(request.getLabels()).containsEntry("workflow", "api").containsEntry("node", "node-a").containsKey("group")
                .containsKey("status");
        assertThat(families.get("tandem_term").getMetrics().get(0).getLabels()).containsEntry("node", "node-a");
    }

    static Map<String, MetricFamily> parse(String text) {
        CollectorPrometheusMetricsWalker walker = new CollectorPrometheusMetricsWalker();
        new TextPrometheusMetricsProcessor(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), walker).walk();
        Map<String, MetricFamily> families = new HashMap<>();
        for (MetricFamily f : walker.getAllMetricFamilies()) families.put(f.getName(), f);
        return families;
    }
}
