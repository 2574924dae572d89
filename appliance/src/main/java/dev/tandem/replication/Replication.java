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
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships the primary's change log to the secondary and applies it there. One data node plays either side
 * by its role in the group: {@link PrimarySide} (followers, the stream, sync waiters) and {@link SecondarySide}
 * (hello, apply, ack, divergence, snapshots); the messages are {@link ReplMessages}, on the group's channel
 * under the topic {@code repl}. Both sides' state is guarded by one lock, and messages are handled one at a time
 * in the order they arrived ({@link #receive}). Light work runs on the thread that brings it, when the lock is
 * free: a commit ships its change from the committing thread, an ack and a small change batch are handled on
 * the channel's receiving thread, a write's wait is registered by the writer (unless the lock is busy). Heavy work (catch-up batches,
 * hellos, snapshots, divergence) and the periodic tick run on the "replication" thread. A sync write on an idle
 * pair so crosses no thread hand-off of its own: each one cost tens of microseconds and, under load, a wait
 * behind whatever the replication thread was doing.
 */
public final class Replication implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Replication.class);
    /** The most changes a secondary applies in one H2 transaction when batches queue up. */
    private static final int APPLY_MAX = 4096;
    /** The most changes a receiving thread applies itself; a longer batch (catch-up) goes to the replication thread. */
    static final int INLINE_MAX = 64;

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
    record Inbound(String from, JsonObject message, long receivedNanos) {
        Inbound(String from, JsonObject message) {
            this(from, message, dev.tandem.metrics.WriteTrace.now());
        }
    }

    private final Queue<Inbound> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    /** Guards {@link #primary}, {@link #secondary} and the taking of messages from {@link #inbox}. */
    private final ReentrantLock lock = new ReentrantLock();

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
        channel.subscribe(ReplMessages.TOPIC, (sender, m) -> receive(new Inbound(m.getValue("from") instanceof String from ? from : "", m)));
        long tick = config.group().heartbeatInterval().toMillis();
        worker.scheduleAtFixedRate(() -> locked(this::tick), tick, tick, TimeUnit.MILLISECONDS);
    }

    private void onWorker(Runnable r) {
        try {
            worker.execute(() -> locked(r));
        } catch (RejectedExecutionException closing) {
            // the node is stopping
        }
    }

    /** Runs {@code r} here if nobody holds the lock, and says whether it did. */
    private boolean ranIfFree(Runnable r) {
        if (!lock.tryLock()) return false;
        try {
            guarded(r);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void locked(Runnable r) {
        lock.lock();
        try {
            guarded(r);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A message from the channel's receiving thread: queued, then handled right here when it is light and
     * nobody holds the lock, else by the replication thread. Whoever holds the lock takes messages in queue
     * order; one that finds the lock taken leaves the queue to the replication thread, which runs after the
     * holder lets go, so no message waits for the next one to arrive.
     */
    private void receive(Inbound in) {
        inbox.add(in); // its sender is checked by the side that handles it
        if (light(in.message()) && lock.tryLock()) {
            try {
                // one message at a time: a backlog (batches to apply together) is the replication thread's
                for (Inbound head = inbox.peek(); head != null && light(head.message()); head = inbox.peek()) handle(List.of(inbox.poll()));
            } finally {
                lock.unlock();
            }
        }
        if (!inbox.isEmpty() && drainScheduled.compareAndSet(false, true)) onWorker(this::drainInbox);
    }

    /** Work a receiving thread may do itself: an ack (and the ship it frees), a refusal, or a change batch of at most {@link #INLINE_MAX}. */
    static boolean light(JsonObject m) {
        Object type = m.getValue("type");
        if (ReplMessages.ACK.equals(type) || ReplMessages.NACK.equals(type)) return true;
        return ReplMessages.CHANGES.equals(type) && m.getValue("changes") instanceof io.vertx.core.json.JsonArray c && c.size() <= INLINE_MAX;
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
                .put("acked_lsn", primary.ackedLsn()).put("caught_up", caughtUp()).put("lag_ms", secondary.lagMillis())
                .put("resyncs", secondary.resyncs()).put("snapshots_installed", secondary.snapshotsInstalled());
    }

    /**
     * Completes when {@code lsn} is as durable as the mode promises: sync, applied by the secondary
     * (or degraded to async after sync_timeout without one, unless strict); async, at once.
     */
    public CompletableFuture<Void> awaitReplicated(long lsn) {
        if (!sync || !expectSecondary || primary.degraded() || lsn <= primary.ackedLsn()) return CompletableFuture.completedFuture(null);
        CompletableFuture<Void> f = new CompletableFuture<>();
        // in place when the lock is free (a hand-off to the replication thread costs a wake-up); else on that thread,
        // so a writer never blocks behind heavy work (a snapshot being sent) and the caller may be an event loop
        if (!ranIfFree(() -> primary.await(lsn, f))) {
            try {
                worker.execute(() -> locked(() -> primary.await(lsn, f)));
            } catch (RejectedExecutionException closing) {
                f.completeExceptionally(new IllegalStateException("the node is stopping: lsn " + lsn + " was not confirmed by the secondary"));
            }
        }
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

    /**
     * Called on committing threads (after the store's commit lock is released): ships at once when the lock is
     * free, else coalesces into one ship on the worker, which runs after the holder lets go and so sees this commit.
     */
    private void scheduleShip() {
        if (ranIfFree(primary::ship)) return;
        if (!shipScheduled.compareAndSet(false, true)) return;
        onWorker(() -> {
            shipScheduled.set(false);
            primary.ship();
        });
    }

    /**
     * Handles every queued message, in order. Consecutive change batches from one sender in one term
     * that queued up while the previous apply ran are applied together: one H2 commit, one fsync (when
     * configured) and one ack for all of them, which is what lets a secondary keep up under load.
     */
    private void drainInbox() {
        drainScheduled.set(false);
        for (List<Inbound> run = nextRun(inbox, APPLY_MAX); !run.isEmpty(); run = nextRun(inbox, APPLY_MAX)) handle(run);
    }

    /** One message, or a run of change batches applied together (see {@link #nextRun}); under the lock. */
    private void handle(List<Inbound> run) {
        String from = run.get(0).from();
        if (run.size() == 1 && !ReplMessages.isChanges(run.get(0).message())) {
            JsonObject m = run.get(0).message();
            long received = run.get(0).receivedNanos();
            guarded(() -> onMessage(from, m, received));
        } else {
            List<JsonObject> batches = run.stream().map(Inbound::message).toList();
            long received = run.get(0).receivedNanos();
            guarded(() -> secondary.onChanges(from, batches, received));
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

    private void onMessage(String from, JsonObject m, long received) {
        switch (m.getString("type")) {
            case ReplMessages.HELLO -> primary.onHello(from, m);
            case ReplMessages.CHANGES -> secondary.onChanges(from, List.of(m), received);
            case ReplMessages.ACK -> primary.onAck(from, m.getLong("lsn"), received);
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
