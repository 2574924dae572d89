package dev.tandem.metrics;

import dev.tandem.api.NodeRole;
import dev.tandem.cluster.GroupMember;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The node's Prometheus metrics (GET /metrics), in the style of Patroni's: {@code tandem_} names, every
 * series labelled {@code group} and {@code node}. Group gauges read a snapshot of {@code /api/v1/group}
 * refreshed once a second by {@link #refresh}, so a scrape never waits on the group thread; role changes
 * and hook runs are counted from the node's event log as they happen. JVM, process and Vert.x HTTP
 * server metrics come from Micrometer's own binders and vertx-micrometer-metrics.
 */
public final class NodeMetrics {
    /** Failover, hook and request durations: buckets an operator reads at a glance (seconds). */
    private static final Duration[] FAILOVER_BUCKETS = millis(50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10_000, 30_000);
    private static final Duration[] REQUEST_BUCKETS = millis(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 30_000);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private volatile JsonObject group = new JsonObject();
    private volatile JsonObject replication = new JsonObject();
    private volatile long lastRoleChangeMillis;
    private final String me;

    public NodeMetrics(String groupName, String nodeName) {
        this.me = nodeName;
        registry.config().commonTags("group", groupName, "node", nodeName);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        // registered now, not at the first role change: a promotion (whose listener records it) never waits for
        // Micrometer to build its first histogram, and the series exist from the start (0 until something happens)
        for (NodeRole r : NodeRole.values()) roleChanges(r.name());
        failoverTimer();
    }

    private Counter roleChanges(String role) {
        return Counter.builder("tandem.role.changes").tag("role", role).description("role changes of this node, by the role it took")
                .register(registry);
    }

    private Timer failoverTimer() {
        return Timer.builder("tandem.failover.duration").description("from the decision to elect to this node serving as primary")
                .serviceLevelObjectives(FAILOVER_BUCKETS).register(registry);
    }

    private static Duration[] millis(long... ms) {
        Duration[] d = new Duration[ms.length];
        for (int i = 0; i < ms.length; i++) d[i] = Duration.ofMillis(ms[i]);
        return d;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The gauges of this node's group membership; {@code replicationInfo} is null on a witness. */
    public void bind(GroupMember member, Supplier<JsonObject> replicationInfo, Supplier<Long> lsn) {
        for (NodeRole r : NodeRole.values()) {
            Gauge.builder("tandem.role", member, m -> m.role() == r ? 1 : 0).tag("role", r.name())
                    .description("1 for the role this node has now, 0 for the others").register(registry);
        }
        Gauge.builder("tandem.primary", member, m -> m.role() == NodeRole.PRIMARY ? 1 : 0)
                .description("1 while this node is the primary of its group").register(registry);
        Gauge.builder("tandem.term", member, GroupMember::term).description("the newest term this node knows").register(registry);
        Gauge.builder("tandem.maintenance", member, m -> m.maintenance() ? 1 : 0)
                .description("1 while automatic failover is paused group-wide").register(registry);
        Gauge.builder("tandem.voters.visible", this, x -> x.group.getInteger("visible", 0))
                .description("members of the group this node sees now (data nodes and the witness)").register(registry);
        Gauge.builder("tandem.voters.configured", this, x -> x.group.getInteger("voters", 0))
                .description("voters configured in group.members").register(registry);
        Gauge.builder("tandem.peers.reachable", this, NodeMetrics::peersUp)
                .description("other members this node is in touch with").register(registry);
        Gauge.builder("tandem.last.role.change.timestamp.seconds", this, x -> x.lastRoleChangeMillis / 1000.0)
                .description("when this node's role last changed (Unix time; 0: not since it started)").register(registry);
        if (replicationInfo != null) {
            Gauge.builder("tandem.lsn", lsn, s -> s.get()).description("the last change (log sequence number) in this node's store")
                    .register(registry);
            Gauge.builder("tandem.replication.lag.changes", this, NodeMetrics::lagChanges)
                    .description("changes this node is behind the primary (0 on the primary)").register(registry);
            Gauge.builder("tandem.replication.lag.seconds", this, x -> x.replication.getLong("lag_ms", 0L) / 1000.0)
                    .description("on a secondary: how old the newest applied change was when it was applied").register(registry);
            Gauge.builder("tandem.sync.degraded", this, x -> x.replication.getBoolean("degraded", false) ? 1 : 0)
                    .description("1 while sync replication has degraded to async (no secondary acknowledging)").register(registry);
        }
    }

    /** Reads the group snapshot the gauges report; call about once a second, off the scrape path. */
    public void refresh(JsonObject groupJson, JsonObject replicationInfo) {
        if (groupJson != null) group = groupJson;
        if (replicationInfo != null) replication = replicationInfo;
    }

    private static double peersUp(NodeMetrics x) {
        JsonArray nodes = x.group.getJsonArray("nodes", new JsonArray());
        String me = x.me;
        int up = 0;
        for (int i = 0; i < nodes.size(); i++) {
            JsonObject n = nodes.getJsonObject(i);
            if ("up".equals(n.getString("state")) && n.getString("name") != null && !n.getString("name").equals(me)) up++;
        }
        return up;
    }

    private static double lagChanges(NodeMetrics x) {
        JsonArray nodes = x.group.getJsonArray("nodes", new JsonArray());
        String me = x.me;
        for (int i = 0; i < nodes.size(); i++) {
            JsonObject n = nodes.getJsonObject(i);
            if (me != null && me.equals(n.getString("name"))) return n.getLong("lag", 0L);
        }
        return 0;
    }

    /** Counts what the event log records: role changes (failover durations), hook runs. */
    public void onEvent(JsonObject event) {
        JsonObject data = event.getJsonObject("data", new JsonObject());
        switch (event.getString("type", "")) {
            case "NODE_ROLE_CHANGED" -> {
                lastRoleChangeMillis = event.getLong("time", System.currentTimeMillis());
                String to = data.getString("new", "?");
                roleChanges(to).increment();
                if ("PRIMARY".equals(to) && data.getValue("took_ms") instanceof Number took) {
                    failoverTimer().record(took.longValue(), TimeUnit.MILLISECONDS);
                }
            }
            case "HOOK_RUN" -> {
                String wf = data.getString("workflow", "?");
                Counter.builder("tandem.hook.runs").tags("workflow", wf, "outcome", data.getString("outcome", "?"))
                        .description("hook runs by workflow and outcome").register(registry).increment();
                if (data.getValue("duration_ms") instanceof Number d) {
                    Timer.builder("tandem.hook.duration").tag("workflow", wf).description("how long each hook ran")
                            .serviceLevelObjectives(REQUEST_BUCKETS).register(registry).record(d.longValue(), TimeUnit.MILLISECONDS);
                }
            }
            default -> { }
        }
    }

    /** One answered workflow request: {@code route} is the route's pattern (bounded), never the raw path. */
    public void workflowRequest(String workflow, String route, int status, long nanos) {
        Timer.builder("tandem.workflow.requests").tags("workflow", workflow, "route", route, "status", Integer.toString(status))
                .description("workflow requests answered, by workflow, route and status, with their latency")
                .serviceLevelObjectives(REQUEST_BUCKETS).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text exposition (format 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }
}
