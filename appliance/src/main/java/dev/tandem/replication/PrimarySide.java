package dev.tandem.replication;

import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import dev.tandem.cluster.GroupMember;
import dev.tandem.core.WriteRefused;
import dev.tandem.store.Change;
import dev.tandem.store.Snapshot;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's side of replication (under {@link Replication}'s lock, one thread at a time): one {@link Follower} per secondary that
 * said hello, the change log streamed to it in windows, its acks, and the writes that wait for them in
 * sync mode, degraded to async after {@code sync_timeout} without a secondary (unless strict).
 */
final class PrimarySide {
    private static final Logger log = LoggerFactory.getLogger(PrimarySide.class);
    static final int BATCH = 512;
    static final int IN_FLIGHT = 8192;
    private static final int SNAPSHOT_CHUNK = 2000;

    private final Link link;
    private final long syncTimeout, failureTimeout;
    private final boolean strict;
    private final Map<String, Follower> followers = new HashMap<>();
    private final TreeMap<Long, List<CompletableFuture<Void>>> waiters = new TreeMap<>();
    private final TreeMap<Long, Long> waiterSince = new TreeMap<>();
    private volatile boolean degraded;
    private volatile long ackedLsn;

    private static final class Follower {
        long next = -1;
        long acked;
        boolean streaming;
        long lastSent;
        /** The last LSN of each change batch sent and not yet acknowledged, oldest first. */
        final ArrayDeque<Long> unacked = new ArrayDeque<>();
    }

    PrimarySide(Link link) {
        this.link = link;
        this.syncTimeout = link.config().replication().syncTimeout().toMillis();
        this.failureTimeout = link.config().group().failureTimeout().toMillis();
        this.strict = link.config().replication().strict();
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

    boolean degraded() {
        return degraded;
    }

    long ackedLsn() {
        return ackedLsn;
    }

    private boolean primary() {
        return link.group().role() == NodeRole.PRIMARY;
    }

    /** A write waits for the secondary: {@code f} completes once {@code lsn} is acknowledged (or degraded). */
    void await(long lsn, CompletableFuture<Void> f) {
        if (lsn <= ackedLsn || degraded) {
            f.complete(null);
            return;
        }
        waiters.computeIfAbsent(lsn, k -> new ArrayList<>()).add(f);
        waiterSince.putIfAbsent(lsn, GroupMember.now());
        checkSyncTimeout();
    }

    /** Each tick while primary: the sync timeout, the stream, and an idle stream's "where I am". */
    void tick(long heartbeatMillis) {
        checkSyncTimeout();
        ship();
        long idle = GroupMember.now() - 2 * heartbeatMillis;
        for (var e : followers.entrySet()) {
            // an idle stream still says where the primary is, so a follower notices what it missed
            if (e.getValue().streaming && e.getValue().lastSent < idle) sendChanges(e.getKey(), e.getValue(), List.of());
        }
    }

    /** No longer primary: the writes handed over in a switchover are done, the rest are refused; followers forgotten. */
    void stepDown(long handedOverLsn) {
        completeWaitersUpTo(handedOverLsn); // handed over in a switchover: those are in the new primary's history
        failWaiters(WriteRefused.Reason.LOST_ROLE, "this node is no longer the primary; the write may not have reached the secondary");
        followers.clear();
        degraded = false;
        ackedLsn = 0;
    }

    /** A follower that left the view must say hello again: what was sent meanwhile may be lost. */
    void forgetAllBut(List<String> members) {
        followers.keySet().retainAll(members);
    }

    void onHello(String from, JsonObject m) {
        if (!primary()) return;
        var store = link.store();
        var replica = link.replica();
        long lsn = m.getLong("lsn"), term = m.getLong("term");
        Follower f = followers.computeIfAbsent(from, k -> new Follower());
        f.streaming = false;
        f.unacked.clear();
        if (lsn <= store.lastLsn() && lsn >= replica.streamableAfter() && replica.termAt(lsn) == term) {
            f.next = lsn + 1;
            f.acked = lsn;
            f.streaming = true;
            log.info("{} has lsn {} (term {}): streaming the {} changes after it", from, lsn, term, store.lastLsn() - lsn);
            if (lsn == store.lastLsn()) sendChanges(from, f, List.of()); // nothing to send: it has caught up
            ship();
        } else if (lsn < replica.streamableAfter() && lsn <= store.lastLsn()) {
            log.info("{} has lsn {}, but the change log starts after {}: sending a snapshot", from, lsn, replica.streamableAfter());
            sendSnapshot(from);
        } else {
            log.info("{} has lsn {} (term {}), which is not in this primary's history: sending term ranges", from, lsn, term);
            link.send(from, ReplMessages.history(link.me(), replica.termRanges()));
        }
    }

    /** Sends every follower what it may have of the log now (within its window). */
    void ship() {
        if (!primary()) return;
        var store = link.store();
        for (var e : followers.entrySet()) {
            Follower f = e.getValue();
            while (f.streaming && f.next <= store.lastLsn() && f.next - f.acked <= IN_FLIGHT
                    && maySend((int) Math.min(BATCH, store.lastLsn() - f.next + 1), f.unacked.size())) {
                List<Change> batch = store.changesToShip(f.next - 1, BATCH);
                if (batch.isEmpty()) break;
                sendChanges(e.getKey(), f, batch);
                f.next = batch.get(batch.size() - 1).lsn() + 1;
                f.unacked.addLast(f.next - 1);
            }
        }
    }

    private void sendChanges(String to, Follower f, List<Change> batch) {
        long started = dev.tandem.metrics.WriteTrace.now();
        link.send(to, ReplMessages.changes(link.me(), link.store().writeTerm(), link.store().lastLsn(), batch));
        f.lastSent = GroupMember.now();
        var trace = new dev.tandem.metrics.WriteTrace.Ship();
        if (!batch.isEmpty() && trace.isEnabled()) {
            trace.firstLsn = batch.get(0).lsn();
            trace.lastLsn = batch.get(batch.size() - 1).lsn();
            trace.startNanos = started;
            trace.sentNanos = dev.tandem.metrics.WriteTrace.now();
            trace.commit();
        }
    }

    /** {@code received}: when the ack reached this node ({@link dev.tandem.metrics.WriteTrace}). */
    void onAck(String from, long lsn, long received) {
        Follower f = followers.get(from);
        if (f == null || !primary()) return;
        f.acked = Math.max(f.acked, lsn);
        while (!f.unacked.isEmpty() && f.unacked.peekFirst() <= f.acked) f.unacked.removeFirst();
        ackedLsn = Math.max(ackedLsn, f.acked);
        completeWaitersUpTo(ackedLsn);
        var trace = new dev.tandem.metrics.WriteTrace.Ack();
        if (trace.isEnabled()) {
            trace.lsn = lsn;
            trace.receivedNanos = received;
            trace.handledNanos = dev.tandem.metrics.WriteTrace.now();
            trace.commit();
        }
        if (degraded && f.acked >= link.store().lastLsn()) {
            degraded = false;
            log.info("replication restored: {} caught up at lsn {}; writes wait for it again (sync)", from, f.acked);
            link.events().publish(EventId.REPLICATION_RESTORED, new JsonObject().put("secondary", from).put("lsn", f.acked));
        }
        ship();
    }

    private void checkSyncTimeout() {
        if (waiterSince.isEmpty()) return;
        var group = link.group();
        if (!strict && noSecondary(group) && group.mayAcknowledge()) {
            // the group already knows there is no secondary (it left the view, or it is frozen: see noSecondary):
            // waiting for it buys nothing
            degrade("no secondary in the group");
            return;
        }
        long oldest = GroupMember.now() - waiterSince.firstEntry().getValue();
        if (oldest <= syncTimeout) return;
        if (strict) {
            failWaiters(WriteRefused.Reason.STRICT_WITHOUT_SECONDARY, "replication.strict: no secondary confirmed the write within replication.sync_timeout ("
                    + syncTimeout + " ms); it was committed on the primary only");
        } else if (group.mayAcknowledge()) {
            degrade("no secondary confirmed for " + oldest + " ms (sync_timeout " + syncTimeout + " ms)");
        }
    }

    /**
     * Whether no data node of the view can confirm a write soon. A follower of this primary always may. Another
     * data node may unless it has been silent for failure_timeout: the old primary, frozen (SIGSTOP, a long pause),
     * stays in the view until failure detection drops it, and this node can be elected before that; a write
     * waited 339-476 ms for the view change in 5 of one run's 20 SIGSTOP failovers (2026-12-04). A follower is
     * judged by its acks, not by its group status, which after a heal can lag the replication stream.
     */
    private boolean noSecondary(GroupMember group) {
        List<String> heard = group.dataPeersHeardSince(GroupMember.now() - failureTimeout);
        return group.dataPeersInView().stream().noneMatch(n -> followers.containsKey(n) || heard.contains(n));
    }

    /** Sync becomes async while this primary holds quorum (G1); REPLICATION_RESTORED follows once a secondary has caught up. */
    private void degrade(String why) {
        degraded = true;
        log.warn("replication degraded to async: {}", why);
        link.events().publish(EventId.REPLICATION_DEGRADED, new JsonObject().put("reason", why).put("lsn", link.store().lastLsn()));
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

    /** A full copy for {@code to}, in parts; it says hello again once it installed it. */
    void sendSnapshot(String to) {
        if (!primary()) return;
        long t0 = GroupMember.now();
        Snapshot snap = link.replica().snapshot();
        int parts = Math.max(1, (snap.docs().size() + SNAPSHOT_CHUNK - 1) / SNAPSHOT_CHUNK);
        for (int p = 0; p < parts; p++) {
            List<Snapshot.Doc> docs = snap.docs().subList(p * SNAPSHOT_CHUNK, Math.min(snap.docs().size(), (p + 1) * SNAPSHOT_CHUNK));
            link.send(to, ReplMessages.snapshotPart(link.me(), link.store().writeTerm(), snap, p, parts, docs));
        }
        Follower f = followers.computeIfAbsent(to, k -> new Follower());
        f.streaming = false;
        log.info("snapshot at lsn {} ({} documents, {} parts) sent to {} in {} ms", snap.lsn(), snap.docs().size(), parts, to, GroupMember.now() - t0);
    }
}
