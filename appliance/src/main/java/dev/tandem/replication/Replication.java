package dev.tandem.replication;

import dev.tandem.api.NodeRole;
import dev.tandem.cluster.GroupChannel;
import dev.tandem.cluster.GroupMember;
import dev.tandem.cluster.OncePerMinute;
import dev.tandem.config.TandemConfig;
import dev.tandem.events.EventSink;
import dev.tandem.store.Store;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships the primary's change log to the secondary and applies it there. One data node plays either side
 * by its role in the group: {@link PrimarySide} (followers, the stream, sync waiters) and {@link SecondarySide}
 * (hello, apply, ack, divergence, snapshots); the messages are {@link ReplMessages}, on the group's channel
 * under the topic {@code repl}. All work runs on one "replication" thread, never on the group thread or the
 * channel's: messages are queued here as they arrive and handled in order ({@link #drainInbox}).
 */
public final class Replication implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Replication.class);
    /** The most changes a secondary applies in one H2 transaction when batches queue up. */
    private static final int APPLY_MAX = 4096;

    private final TandemConfig config;
    private final Store store;
    private final GroupMember group;
    private final ScheduledExecutorService worker;
    private final boolean sync;
    /** Replication has a partner only when the group has more than one voter. */
    private final boolean expectSecondary;
    private final PrimarySide primary;
    private final SecondarySide secondary;
    private final AtomicBoolean shipScheduled = new AtomicBoolean();
    private final OncePerMinute logLimit = new OncePerMinute();

    /** A message from the group, handled in arrival order on the worker (see {@link #drainInbox}). */
    record Inbound(String from, JsonObject message) {}

    private final Queue<Inbound> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();

    public Replication(TandemConfig config, Store store, GroupMember group, GroupChannel channel, EventSink events) {
        this.config = config;
        this.store = store;
        this.group = group;
        this.sync = config.replication().mode() == TandemConfig.ReplicationMode.SYNC;
        this.expectSecondary = config.group().members().size() > 1;
        String me = config.node().name();
        Link link = new Link(config, store, store.replica(), group, channel, events, me);
        this.primary = new PrimarySide(link);
        this.secondary = new SecondarySide(link);
        this.worker = dev.tandem.util.Threads.scheduled("replication-" + me);
        store.onCommit(lsn -> scheduleShip());
        channel.onView(v -> onWorker(() -> primary.forgetAllBut(v.members())));
        channel.subscribe(ReplMessages.TOPIC, (sender, m) -> {
            inbox.add(new Inbound(m.getValue("from") instanceof String from ? from : "", m)); // checked on the worker
            if (drainScheduled.compareAndSet(false, true)) onWorker(this::drainInbox);
        });
        long tick = config.group().heartbeatInterval().toMillis();
        worker.scheduleAtFixedRate(() -> guarded(this::tick), tick, tick, TimeUnit.MILLISECONDS);
    }

    private void onWorker(Runnable r) {
        try {
            worker.execute(() -> guarded(r));
        } catch (RejectedExecutionException closing) {
            // the node is stopping
        }
    }

    private void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // a malformed batch lands here too: reported once a minute per kind, never a flood
            if (logLimit.allow(e.getClass().getName())) log.error("replication: unexpected failure (it goes on)", e);
        }
    }

    // ------------------------------------------------------------------ reads (any thread)

    /** A secondary that applies the primary's changes and has caught up with it. */
    public boolean caughtUp() {
        return secondary.caughtUp();
    }

    public boolean degraded() {
        return primary.degraded();
    }

    public JsonObject info() {
        return new JsonObject().put("mode", sync ? "sync" : "async").put("degraded", primary.degraded()).put("strict", config.replication().strict())
                .put("acked_lsn", primary.ackedLsn()).put("caught_up", caughtUp()).put("lag_ms", secondary.lagMillis());
    }

    /**
     * Completes when {@code lsn} is as durable as the mode promises: sync, applied by the secondary
     * (or degraded to async after sync_timeout without one, unless strict); async, at once.
     */
    public CompletableFuture<Void> awaitReplicated(long lsn) {
        if (!sync || !expectSecondary || primary.degraded() || lsn <= primary.ackedLsn()) return CompletableFuture.completedFuture(null);
        CompletableFuture<Void> f = new CompletableFuture<>();
        worker.execute(() -> primary.await(lsn, f));
        return f;
    }

    // ------------------------------------------------------------------ worker thread

    private void tick() {
        NodeRole role = group.role();
        if (role != NodeRole.SECONDARY) secondary.stop();
        if (role == NodeRole.PRIMARY) {
            primary.tick(config.group().heartbeatInterval().toMillis());
        } else {
            primary.stepDown(group.handedOverLsn());
            secondary.tick();
        }
        var replica = store.replica();
        if (store.lastLsn() - replica.streamableAfter() > config.replication().logRetention() + 1000) {
            replica.truncate(config.replication().logRetention());
        }
    }

    /** Called on committing threads: coalesces into one ship on the worker. */
    private void scheduleShip() {
        if (!shipScheduled.compareAndSet(false, true)) return;
        worker.execute(() -> {
            shipScheduled.set(false);
            guarded(primary::ship);
        });
    }

    /**
     * Handles every queued message, in order. Consecutive change batches from one sender in one term
     * that queued up while the previous apply ran are applied together: one H2 commit, one fsync (when
     * configured) and one ack for all of them, which is what lets a secondary keep up under load.
     */
    private void drainInbox() {
        drainScheduled.set(false);
        for (List<Inbound> run = nextRun(inbox, APPLY_MAX); !run.isEmpty(); run = nextRun(inbox, APPLY_MAX)) {
            String from = run.get(0).from();
            if (run.size() == 1 && !ReplMessages.isChanges(run.get(0).message())) {
                JsonObject m = run.get(0).message();
                guarded(() -> onMessage(from, m));
            } else {
                List<JsonObject> batches = run.stream().map(Inbound::message).toList();
                guarded(() -> secondary.onChanges(from, batches));
            }
        }
    }

    /**
     * Takes the next message from {@code q}; when it is a non-empty change batch, also the batches right
     * behind it that {@link #mergeable} with it, up to about {@code maxChanges} changes. Empty when {@code q} is.
     */
    static List<Inbound> nextRun(Queue<Inbound> q, int maxChanges) {
        Inbound first = q.poll();
        if (first == null) return List.of();
        List<Inbound> run = new ArrayList<>(List.of(first));
        if (!ReplMessages.isChanges(first.message())) return run;
        int n = first.message().getJsonArray("changes").size();
        for (Inbound next = q.peek(); next != null && n < maxChanges && mergeable(first, next); next = q.peek()) {
            run.add(q.poll());
            n += next.message().getJsonArray("changes").size();
        }
        return run;
    }

    /** Whether {@code b} may be applied together with the batch {@code a}: both non-empty change batches of one sender and term. */
    static boolean mergeable(Inbound a, Inbound b) {
        return ReplMessages.isChanges(b.message()) && a.from().equals(b.from())
                && a.message().getValue("term") instanceof Number ta && b.message().getValue("term") instanceof Number tb
                && ta.longValue() == tb.longValue();
    }

    private void onMessage(String from, JsonObject m) {
        switch (m.getString("type")) {
            case ReplMessages.HELLO -> primary.onHello(from, m);
            case ReplMessages.CHANGES -> secondary.onChanges(from, List.of(m));
            case ReplMessages.ACK -> primary.onAck(from, m.getLong("lsn"));
            case ReplMessages.NACK -> log.warn("{} refused our changes: {}", from, m.getString("reason"));
            case ReplMessages.HISTORY -> secondary.onHistory(from, m);
            case ReplMessages.RESYNC -> primary.sendSnapshot(from);
            case ReplMessages.SNAPSHOT -> secondary.onSnapshot(from, m);
            default -> log.debug("ignored {}", m.getString("type"));
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
