package dev.tandem.events;

import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import dev.tandem.workflows.Workflow;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where everything that happens on a node goes, under one set of names. Events of the hooks API
 * ({@link EventId}: role changes, peers, replication, divergence, maintenance) are recorded in the
 * {@link EventLog} and delivered to every workflow's hooks and every Java extension; the node's own
 * records (HOOK_RUN, COMMAND_RUN, AUDIT, deployments) only go into the log. Hook dispatch happens here
 * and nowhere else: the event log's {@code NODE_ROLE_CHANGED} is the call the hooks got, plus how long
 * the change took.
 */
public final class NodeEvents implements EventSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeEvents.class);

    private final EventLog eventLog = new EventLog();
    private final Extensions extensions = new Extensions();
    private final Duration hookTimeout;
    private volatile WorkflowEngine workflows;
    private volatile LongSupplier currentTerm = () -> 0;

    public NodeEvents(Duration hookTimeout) {
        this.hookTimeout = hookTimeout;
    }

    /** The workflows whose hooks get the events (data nodes), and the group's term for events that carry none. */
    public void deliverTo(WorkflowEngine workflows, LongSupplier currentTerm) {
        this.workflows = workflows;
        this.currentTerm = currentTerm;
    }

    public EventLog log() {
        return eventLog;
    }

    /** This node's role changed ({@code previous} null: the first role a workflow or extension is told of). */
    public void roleChanged(NodeRole previous, NodeRole now, long term, String reason, long tookMillis) {
        JsonObject data = roleData(previous, now, term, reason);
        eventLog.append(EventId.NODE_ROLE_CHANGED.name(), data.copy().put("took_ms", tookMillis));
        extensions.roleChanged(previous, now, term, reason);
        extensions.event(EventId.NODE_ROLE_CHANGED, data); // onEvent gets every event, this one included
        deliver(EventId.NODE_ROLE_CHANGED, data, term);
    }

    /** An event of the group, replication or maintenance: recorded, then delivered to hooks and extensions. */
    @Override
    public void publish(EventId id, JsonObject data) {
        eventLog.append(id.name(), data);
        extensions.event(id, data);
        deliver(id, data, data.getValue("term") instanceof Number t ? t.longValue() : currentTerm.getAsLong());
    }

    /** One of the node's own records (not an event of the hooks API): into the log only. */
    public void record(String type, JsonObject data) {
        eventLog.append(type, data);
    }

    /** A workflow just installed (deployed at run time, or loaded at start): its first role call, previous None (SPEC 6). */
    public void welcome(Workflow wf, NodeRole role, long term) {
        deliverOne(wf, EventId.NODE_ROLE_CHANGED, roleData(null, role, term, "workflow loaded").encode(), term);
    }

    /** The extensions' first role call, as the node starts. */
    public void welcomeExtensions(NodeRole role, long term) {
        extensions.roleChanged(null, role, term, "workflow loaded");
    }

    private static JsonObject roleData(NodeRole previous, NodeRole now, long term, String reason) {
        return new JsonObject().put("previous", previous == null ? null : previous.name()).put("new", now.name()).put("term", term)
                .put("reason", reason);
    }

    /** Queues the event for every workflow's subscribers; each hook run is recorded in the event log. */
    private void deliver(EventId id, JsonObject data, long term) {
        WorkflowEngine w = workflows;
        if (w == null) return;
        String json = data.encode();
        w.forEach(wf -> deliverOne(wf, id, json, term));
    }

    private void deliverOne(Workflow wf, EventId id, String json, long term) {
        wf.deliver(id.name(), json, hookTimeout).thenAccept(runs -> {
            for (Workflow.HookRun run : runs) {
                eventLog.append("HOOK_RUN", new JsonObject().put("workflow", run.workflow()).put("hook", run.hook()).put("event", id.name())
                        .put("term", term).put("start", run.startedAtMillis()).put("duration_ms", run.durationMillis())
                        .put("outcome", run.outcome()).put("output", run.output()).put("error", run.error()));
                if (!run.outcome().equals("ok")) {
                    log.warn("hook {} ({}) on {}: {} after {} ms: {}", run.hook(), run.workflow(), id, run.outcome(),
                            run.durationMillis(), run.error());
                }
            }
        });
    }

    @Override
    public void close() {
        extensions.close();
    }
}
