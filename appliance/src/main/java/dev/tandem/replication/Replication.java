package dev.tandem.replication;

import dev.tandem.cluster.GroupMember;
import dev.tandem.config.TandemConfig;
import dev.tandem.api.NodeRole;
import dev.tandem.core.WriteRefused;
import dev.tandem.store.Change;
import dev.tandem.store.Replica;
import dev.tandem.store.Snapshot;
import dev.tandem.store.Store;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships the primary's change log to the secondary and applies it there (one data node plays either
 * side, by role). All work runs on one "replication" thread; H2 work never runs on the group thread.
 *
 * <p>Messages: {@code repl.hello} (secondary: "I have up to lsn, written in term"), {@code repl.changes}
 * (a batch, in LSN order, with the primary's term), {@code repl.ack} / {@code repl.nack} (applied up to /
 * refused: older term), {@code repl.history} (the primary's term ranges, when the hello does not match
 * its log), {@code repl.resync} and {@code repl.snapshot} (a full copy, when the log does not reach back
 * or after divergence).
 */
public final class Replication implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Replication.class);
    private static final int BATCH = 512;
    private static final int IN_FLIGHT = 8192;
    private static final int SNAPSHOT_CHUNK = 2000;
    /** The most changes a secondary applies in one H2 transaction when batches queue up. */
    private static final int APPLY_MAX = 4096;

    private final TandemConfig config;
    private final Store store;
    private final Replica replica;
    private final GroupMember group;
    private final ScheduledExecutorService worker;
    private final boolean sync;
    private final long syncTimeout;
    private final String me;
    /** Replication has a partner only when the group has more than one voter. */
    private final boolean expectSecondary;

    // primary side (worker thread)
    private final Map<String, Follower> followers = new HashMap<>();
    private final TreeMap<Long, List<CompletableFuture<Void>>> waiters = new TreeMap<>();
    private final TreeMap<Long, Long> waiterSince = new TreeMap<>();
    private volatile boolean degraded;
    private volatile long ackedLsn;
    private final java.util.concurrent.atomic.AtomicBoolean shipScheduled = new java.util.concurrent.atomic.AtomicBoolean();

    /** Messages from the group, handled in arrival order on the worker (see {@link #drainInbox}). */
    record Inbound(String from, JsonObject message) {}
    private final java.util.concurrent.ConcurrentLinkedQueue<Inbound> inbox = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean drainScheduled = new java.util.concurrent.atomic.AtomicBoolean();

    // secondary side (worker thread)
    private volatile boolean caughtUp;
    /** The primary's term in which this secondary was last confirmed caught up: a newer term voids it. */
    private volatile long caughtUpTerm = -1;
    private String followingPrimary;
    private long followingTerm;
    private List<Snapshot.Doc> snapshotDocs;
    private volatile long lagMillis;
    private long lastFromPrimary;

    private static final class Follower {
        long next = -1;
        long acked;
        boolean streaming;
        long lastSent;
        /** The last LSN of each change batch sent and not yet acknowledged, oldest first. */
        final java.util.ArrayDeque<Long> unacked = new java.util.ArrayDeque<>();
    }

    /**
     * Whether a batch of {@code size} changes may go to a follower that has {@code unacked} batches
     * unacknowledged: a full batch (catch-up) while fewer than 16 are, a partial one (the live stream)
     * only when none is. So under load the commits made during one round trip travel in one message,
     * with one ack, instead of one message and one ack each; an idle stream sends at once.
     */
    static boolean maySend(int size, int unacked) {
        return size >= BATCH ? unacked < IN_FLIGHT / BATCH : unacked == 0;
    }

    public Replication(TandemConfig config, Store store, GroupMember group) {
        this.config = config;
        this.store = store;
        this.replica = store.replica();
        this.group = group;
        this.me = config.node().name();
        this.sync = config.replication().mode() == TandemConfig.ReplicationMode.SYNC;
        this.syncTimeout = config.replication().syncTimeout().toMillis();
        this.expectSecondary = config.group().members().size() > 1;
        this.worker = dev.tandem.util.Threads.scheduled("replication-" + me);
        store.onCommit(lsn -> scheduleShip());
        group.addListener(new GroupMember.Listener() {
            @Override
            public void roleChanged(NodeRole previous, NodeRole now, long term, String reason, long tookMillis) {}

            @Override
            public void event(String type, JsonObject data) {
                // a follower that left the view must say hello again: what was sent meanwhile may be lost
                if (type.equals("PEER_LOST") && !worker.isShutdown()) {
                    try {
                        worker.execute(() -> followers.remove(data.getString("peer")));
                    } catch (java.util.concurrent.RejectedExecutionException closing) {
                        // the node is stopping
                    }
                }
            }
        });
        group.onMessage("repl.", (from, m) -> {
            inbox.add(new Inbound(from, m));
            if (drainScheduled.compareAndSet(false, true)) worker.execute(this::drainInbox);
        });
        long tick = config.group().heartbeatInterval().toMillis();
        worker.scheduleAtFixedRate(() -> guarded(this::tick), tick, tick, TimeUnit.MILLISECONDS);
    }

    private final dev.tandem.cluster.OncePerMinute logLimit = new dev.tandem.cluster.OncePerMinute();

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
        return caughtUp && group.role() == NodeRole.SECONDARY && caughtUpTerm == group.term();
    }

    private void setCaughtUp(boolean value, long primaryTerm) {
        caughtUp = value;
        caughtUpTerm = value ? primaryTerm : -1;
    }

    public boolean degraded() {
        return degraded;
    }

    public JsonObject info() {
        return new JsonObject().put("mode", sync ? "sync" : "async").put("degraded", degraded).put("strict", config.replication().strict())
                .put("acked_lsn", ackedLsn).put("caught_up", caughtUp()).put("lag_ms", lagMillis);
    }

    /**
     * Completes when {@code lsn} is as durable as the mode promises: sync, applied by the secondary
     * (or degraded to async after sync_timeout without one, unless strict); async, at once.
     */
    public CompletableFuture<Void> awaitReplicated(long lsn) {
        if (!sync || !expectSecondary || degraded || lsn <= ackedLsn) return CompletableFuture.completedFuture(null);
        CompletableFuture<Void> f = new CompletableFuture<>();
        worker.execute(() -> {
            if (lsn <= ackedLsn || degraded) {
                f.complete(null);
                return;
            }
            waiters.computeIfAbsent(lsn, k -> new ArrayList<>()).add(f);
            waiterSince.putIfAbsent(lsn, now());
            checkSyncTimeout();
        });
        return f;
    }

    static long now() {
        return System.nanoTime() / 1_000_000;
    }

    // ------------------------------------------------------------------ worker thread

    private void tick() {
        if (group.role() != NodeRole.SECONDARY) {
            setCaughtUp(false, -1);
            followingPrimary = null;
        }
        if (group.role() == NodeRole.PRIMARY) {
            checkSyncTimeout();
            ship();
            long idle = now() - 2 * config.group().heartbeatInterval().toMillis();
            for (var e : followers.entrySet()) {
                // an idle stream still says where the primary is, so a follower notices what it missed
                if (e.getValue().streaming && e.getValue().lastSent < idle) sendChanges(e.getKey(), e.getValue(), new JsonArray());
            }
        } else {
            completeWaitersUpTo(group.handedOverLsn()); // handed over in a switchover: those are in the new primary's history
            failWaiters(WriteRefused.Reason.LOST_ROLE, "this node is no longer the primary; the write may not have reached the secondary");
            followers.clear();
            degraded = false;
            ackedLsn = 0;
            String p = group.primary();
            if (group.role() != NodeRole.SECONDARY || p == null) {
                followingPrimary = null;
                setCaughtUp(false, -1);
            } else if (!p.equals(followingPrimary) || followingTerm != group.term() || now() - lastFromPrimary > 1000) {
                // a new primary, or a stream that stalled: say where we are
                followingPrimary = p;
                followingTerm = group.term();
                setCaughtUp(false, -1);
                lastFromPrimary = now();
                hello(p);
            }
        }
        if (store.lastLsn() - replica.streamableAfter() > config.replication().logRetention() + 1000) {
            replica.truncate(config.replication().logRetention());
        }
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
            if (run.size() == 1 && !isChanges(run.get(0).message())) {
                JsonObject m = run.get(0).message();
                guarded(() -> onMessage(from, m));
            } else {
                List<JsonObject> batches = run.stream().map(Inbound::message).toList();
                guarded(() -> onChanges(from, batches));
            }
        }
    }

    /**
     * Takes the next message from {@code q}; when it is a non-empty change batch, also the batches right
     * behind it that {@link #mergeable} with it, up to about {@code maxChanges} changes. Empty when {@code q} is.
     */
    static List<Inbound> nextRun(java.util.Queue<Inbound> q, int maxChanges) {
        Inbound first = q.poll();
        if (first == null) return List.of();
        List<Inbound> run = new ArrayList<>(List.of(first));
        if (!isChanges(first.message())) return run;
        int n = first.message().getJsonArray("changes").size();
        for (Inbound next = q.peek(); next != null && n < maxChanges && mergeable(first, next); next = q.peek()) {
            run.add(q.poll());
            n += next.message().getJsonArray("changes").size();
        }
        return run;
    }

    private static boolean isChanges(JsonObject m) {
        return "repl.changes".equals(m.getValue("type")) && m.getValue("changes") instanceof JsonArray c && !c.isEmpty();
    }

    /** Whether {@code b} may be applied together with the batch {@code a}: both non-empty change batches of one sender and term. */
    static boolean mergeable(Inbound a, Inbound b) {
        return isChanges(b.message()) && a.from().equals(b.from())
                && a.message().getValue("term") instanceof Number ta && b.message().getValue("term") instanceof Number tb
                && ta.longValue() == tb.longValue();
    }

    private void onMessage(String from, JsonObject m) {
        switch (m.getString("type")) {
            case "repl.hello" -> onHello(from, m);
            case "repl.changes" -> onChanges(from, List.of(m));
            case "repl.ack" -> onAck(from, m.getLong("lsn"));
            case "repl.nack" -> log.warn("{} refused our changes: {}", from, m.getString("reason"));
            case "repl.history" -> onHistory(from, m);
            case "repl.resync" -> sendSnapshot(from);
            case "repl.snapshot" -> onSnapshot(from, m);
            default -> log.debug("ignored {}", m.getString("type"));
        }
    }

    // --- primary ---

    private void onHello(String from, JsonObject m) {
        if (group.role() != NodeRole.PRIMARY) return;
        long lsn = m.getLong("lsn"), term = m.getLong("term");
        Follower f = followers.computeIfAbsent(from, k -> new Follower());
        f.streaming = false;
        f.unacked.clear();
        if (lsn <= store.lastLsn() && lsn >= replica.streamableAfter() && replica.termAt(lsn) == term) {
            f.next = lsn + 1;
            f.acked = lsn;
            f.streaming = true;
            log.info("{} has lsn {} (term {}): streaming the {} changes after it", from, lsn, term, store.lastLsn() - lsn);
            if (lsn == store.lastLsn()) sendChanges(from, f, new JsonArray()); // nothing to send: it has caught up
            ship();
        } else if (lsn < replica.streamableAfter() && lsn <= store.lastLsn()) {
            log.info("{} has lsn {}, but the change log starts after {}: sending a snapshot", from, lsn, replica.streamableAfter());
            sendSnapshot(from);
        } else {
            JsonArray ranges = new JsonArray();
            for (long[] r : replica.termRanges()) ranges.add(new JsonArray().add(r[0]).add(r[1]).add(r[2]));
            log.info("{} has lsn {} (term {}), which is not in this primary's history: sending term ranges", from, lsn, term);
            group.sendTo(from, new JsonObject().put("type", "repl.history").put("from", me).put("ranges", ranges));
        }
    }

    /** Called on committing threads: coalesces into one ship() on the worker. */
    private void scheduleShip() {
        if (!shipScheduled.compareAndSet(false, true)) return;
        worker.execute(() -> {
            shipScheduled.set(false);
            guarded(this::ship);
        });
    }

    private void ship() {
        if (group.role() != NodeRole.PRIMARY) return;
        for (var e : followers.entrySet()) {
            Follower f = e.getValue();
            while (f.streaming && f.next <= store.lastLsn() && f.next - f.acked <= IN_FLIGHT
                    && maySend((int) Math.min(BATCH, store.lastLsn() - f.next + 1), f.unacked.size())) {
                List<Change> batch = store.changesToShip(f.next - 1, BATCH);
                if (batch.isEmpty()) break;
                JsonArray changes = new JsonArray();
                for (Change c : batch) changes.add(new JsonArray().add(c.lsn()).add(c.term()).add(c.timestamp()).add(c.ops()));
                sendChanges(e.getKey(), f, changes);
                f.next = batch.get(batch.size() - 1).lsn() + 1;
                f.unacked.addLast(f.next - 1);
            }
        }
    }

    private void sendChanges(String to, Follower f, JsonArray changes) {
        group.sendTo(to, new JsonObject().put("type", "repl.changes").put("from", me).put("term", store.writeTerm())
                .put("primaryLsn", store.lastLsn()).put("changes", changes));
        f.lastSent = now();
    }

    private void onAck(String from, long lsn) {
        Follower f = followers.get(from);
        if (f == null || group.role() != NodeRole.PRIMARY) return;
        f.acked = Math.max(f.acked, lsn);
        while (!f.unacked.isEmpty() && f.unacked.peekFirst() <= f.acked) f.unacked.removeFirst();
        ackedLsn = Math.max(ackedLsn, f.acked);
        completeWaitersUpTo(ackedLsn);
        if (degraded && f.acked >= store.lastLsn()) {
            degraded = false;
            log.info("replication restored: {} caught up at lsn {}; writes wait for it again (sync)", from, f.acked);
            group.emit("REPLICATION_RESTORED", new JsonObject().put("secondary", from).put("lsn", f.acked));
        }
        ship();
    }

    private void checkSyncTimeout() {
        if (waiterSince.isEmpty()) return;
        if (!config.replication().strict() && group.dataPeersInView().isEmpty() && group.mayAcknowledge()) {
            // the group already knows there is no secondary (it left the view): waiting for it buys nothing
            degrade("no secondary in the group");
            return;
        }
        long oldest = now() - waiterSince.firstEntry().getValue();
        if (oldest <= syncTimeout) return;
        if (config.replication().strict()) {
            failWaiters(WriteRefused.Reason.STRICT_WITHOUT_SECONDARY, "replication.strict: no secondary confirmed the write within replication.sync_timeout ("
                    + syncTimeout + " ms); it was committed on the primary only");
        } else if (group.mayAcknowledge()) {
            degrade("no secondary confirmed for " + oldest + " ms (sync_timeout " + syncTimeout + " ms)");
        }
    }

    /** Sync becomes async while this primary holds quorum (G1); REPLICATION_RESTORED follows once a secondary has caught up. */
    private void degrade(String why) {
        degraded = true;
        log.warn("replication degraded to async: {}", why);
        group.emit("REPLICATION_DEGRADED", new JsonObject().put("reason", why).put("lsn", store.lastLsn()));
        waiters.values().forEach(list -> list.forEach(w -> w.complete(null)));
        waiters.clear();
        waiterSince.clear();
    }

    private void completeWaitersUpTo(long lsn) {
        var done = waiters.headMap(lsn, true);
        done.values().forEach(list -> list.forEach(w -> w.complete(null)));
        done.clear();
        waiterSince.headMap(lsn, true).clear();
    }

    private void failWaiters(WriteRefused.Reason reason, String why) {
        if (waiters.isEmpty()) return;
        var e = new WriteRefused(reason, why);
        waiters.values().forEach(list -> list.forEach(w -> w.completeExceptionally(e)));
        waiters.clear();
        waiterSince.clear();
    }

    private void sendSnapshot(String to) {
        if (group.role() != NodeRole.PRIMARY) return;
        long t0 = now();
        Snapshot snap = replica.snapshot();
        int parts = Math.max(1, (snap.docs().size() + SNAPSHOT_CHUNK - 1) / SNAPSHOT_CHUNK);
        for (int p = 0; p < parts; p++) {
            JsonArray docs = new JsonArray();
            for (Snapshot.Doc d : snap.docs().subList(p * SNAPSHOT_CHUNK, Math.min(snap.docs().size(), (p + 1) * SNAPSHOT_CHUNK))) {
                docs.add(new JsonArray().add(d.ns()).add(d.coll()).add(d.key()).add(d.value()));
            }
            group.sendTo(to, new JsonObject().put("type", "repl.snapshot").put("from", me).put("term", store.writeTerm())
                    .put("lsn", snap.lsn()).put("lsnTerm", snap.term()).put("part", p).put("parts", parts).put("docs", docs));
        }
        Follower f = followers.computeIfAbsent(to, k -> new Follower());
        f.streaming = false; // it says hello again once installed
        log.info("snapshot at lsn {} ({} documents, {} parts) sent to {} in {} ms", snap.lsn(), snap.docs().size(), parts, to, now() - t0);
    }

    // --- secondary ---

    private void hello(String primary) {
        group.sendTo(primary, new JsonObject().put("type", "repl.hello").put("from", me).put("lsn", store.lastLsn())
                .put("term", store.lastChangeTerm()));
    }

    private boolean acceptFrom(String from, JsonObject m) {
        long t = m.getLong("term");
        if (t < group.term()) {
            group.sendTo(from, new JsonObject().put("type", "repl.nack").put("from", me).put("term", group.term())
                    .put("reason", "term " + t + " is older than term " + group.term() + " known here"));
            return false;
        }
        return group.role() == NodeRole.SECONDARY && from.equals(group.primary());
    }

    /** One change batch, or several consecutive ones of the same sender and term (in order), applied in one transaction. */
    private void onChanges(String from, List<JsonObject> ms) {
        JsonObject m = ms.get(ms.size() - 1); // the newest: its primaryLsn covers the others'
        if (!acceptFrom(from, m)) return;
        lastFromPrimary = now();
        if (ms.size() == 1 && m.getJsonArray("changes").isEmpty()) {
            // batches arrive in order, so everything sent before this one has been applied
            setCaughtUp(store.lastLsn() >= m.getLong("primaryLsn"), m.getLong("term"));
            if (!caughtUp) hello(from);
            else group.sendTo(from, new JsonObject().put("type", "repl.ack").put("from", me).put("lsn", store.lastLsn()));
            return;
        }
        List<Change> batch = new ArrayList<>();
        for (JsonObject one : ms) {
            JsonArray arr = one.getJsonArray("changes");
            for (int i = 0; i < arr.size(); i++) {
                JsonArray c = arr.getJsonArray(i);
                batch.add(new Change(c.getLong(0), c.getLong(1), c.getLong(2), c.getString(3)));
            }
        }
        long before = store.lastLsn();
        long last = replica.apply(batch);
        store.syncIfConfigured(); // replication.fsync: on disk here before the primary may acknowledge
        Change newest = batch.get(batch.size() - 1);
        if (last < newest.lsn()) {
            // a gap (a batch went missing): acknowledge what was applied, ask again from where we are
            if (last > before) ack(from, last);
            hello(from);
            return;
        }
        lagMillis = Math.max(0, System.currentTimeMillis() - newest.timestamp());
        setCaughtUp(last >= m.getLong("primaryLsn"), m.getLong("term"));
        ack(from, last);
    }

    private void ack(String to, long lsn) {
        group.sendTo(to, new JsonObject().put("type", "repl.ack").put("from", me).put("lsn", lsn));
    }

    private void onHistory(String from, JsonObject m) {
        if (group.role() != NodeRole.SECONDARY || !from.equals(group.primary())) return;
        long common = commonPoint(replica.termRanges(), m.getJsonArray("ranges"));
        long mine = store.lastLsn();
        if (mine > common) {
            int n = replica.preserveDivergentAfter(common, "diverged from " + from + "'s history after lsn " + common);
            log.warn("divergence: {} changes after lsn {} are not in the group's history; preserved in the divergent table", n, common);
            group.emit("DIVERGENCE_PRESERVED", new JsonObject().put("changes", n).put("after_lsn", common).put("primary", from));
        }
        group.sendTo(from, new JsonObject().put("type", "repl.resync").put("from", me));
    }

    /** The last LSN where both histories have the same term (LSN -> term only grows, so ranges suffice). */
    static long commonPoint(List<long[]> mine, JsonArray theirs) {
        long common = 0;
        for (long[] a : mine) {
            for (int i = 0; i < theirs.size(); i++) {
                JsonArray b = theirs.getJsonArray(i);
                if (a[0] != b.getLong(0)) continue;
                long lo = Math.max(a[1], b.getLong(1)), hi = Math.min(a[2], b.getLong(2));
                if (lo <= hi) common = Math.max(common, hi);
            }
        }
        return common;
    }

    private void onSnapshot(String from, JsonObject m) {
        if (!acceptFrom(from, m)) return;
        lastFromPrimary = now();
        if (m.getInteger("part") == 0) snapshotDocs = new ArrayList<>();
        if (snapshotDocs == null) return;
        for (Object o : m.getJsonArray("docs")) {
            JsonArray d = (JsonArray) o;
            snapshotDocs.add(new Snapshot.Doc(d.getString(0), d.getString(1), d.getString(2), d.getString(3)));
        }
        if (m.getInteger("part") == m.getInteger("parts") - 1) {
            long t0 = now();
            replica.install(new Snapshot(m.getLong("lsn"), m.getLong("lsnTerm"), snapshotDocs));
            log.info("snapshot installed: {} documents at lsn {} in {} ms", snapshotDocs.size(), m.getLong("lsn"), now() - t0);
            snapshotDocs = null;
            hello(from);
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
