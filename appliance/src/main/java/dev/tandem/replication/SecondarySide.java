package dev.tandem.replication;

import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import dev.tandem.cluster.GroupMember;
import dev.tandem.store.Change;
import dev.tandem.store.Snapshot;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secondary's side of replication (under {@link Replication}'s lock, one thread at a time): it says hello to a new primary (or
 * again when the stream stalls), applies change batches in LSN order, acknowledges them, preserves a
 * divergent tail before a resync, and installs snapshots.
 */
final class SecondarySide {
    private static final Logger log = LoggerFactory.getLogger(SecondarySide.class);

    private final Link link;
    private volatile boolean caughtUp;
    /** The primary's term in which this secondary was last confirmed caught up: a newer term voids it. */
    private volatile long caughtUpTerm = -1;
    private volatile long lagMillis;
    private String followingPrimary;
    private long followingTerm;
    private long lastFromPrimary;
    private List<Snapshot.Doc> snapshotDocs;
    /**
     * When this node asked the primary it follows for a full copy (0: it has not, or the copy is installed). While
     * one is on its way, term ranges are ignored and no hello is sent: an answer to a hello would preserve the same
     * divergent changes again and ask for a second copy. After {@link #RESYNC_PATIENCE_MILLIS} without a snapshot
     * part, the node says hello again (the request or the copy was lost).
     */
    private long resyncAskedAt;
    static final long RESYNC_PATIENCE_MILLIS = 30_000;
    /** How often this node asked its primary for a full copy, and installed one (since it started). */
    private volatile long resyncs, snapshotsInstalled;

    SecondarySide(Link link) {
        this.link = link;
    }

    /** Caught up with the primary of the current term. */
    boolean caughtUp() {
        var g = link.group();
        return caughtUp && g.role() == NodeRole.SECONDARY && caughtUpTerm == g.term();
    }

    long lagMillis() {
        return lagMillis;
    }

    long resyncs() {
        return resyncs;
    }

    long snapshotsInstalled() {
        return snapshotsInstalled;
    }

    private void setCaughtUp(boolean value, long primaryTerm) {
        caughtUp = value;
        caughtUpTerm = value ? primaryTerm : -1;
    }

    /** Not a secondary (any more): nothing is followed. */
    void stop() {
        setCaughtUp(false, -1);
        followingPrimary = null;
        resyncAskedAt = 0;
        snapshotDocs = null;
    }

    private boolean resyncPending() {
        return resyncAskedAt != 0 && GroupMember.now() - Math.max(resyncAskedAt, lastFromPrimary) <= RESYNC_PATIENCE_MILLIS;
    }

    /** Each tick while not primary: a new primary, or a stream that stalled, gets a hello. */
    void tick() {
        var g = link.group();
        String p = g.primary();
        if (g.role() != NodeRole.SECONDARY || p == null) {
            stop();
        } else if (!p.equals(followingPrimary) || followingTerm != g.term()) {
            // a new primary (or term): what was asked of the old one is void
            resyncAskedAt = 0;
            snapshotDocs = null;
            follow(p, g.term());
        } else if (GroupMember.now() - lastFromPrimary > 1000 && !resyncPending()) {
            if (resyncAskedAt != 0) log.warn("{} sent no snapshot part for {} ms after a resync was asked: saying hello again", p, RESYNC_PATIENCE_MILLIS);
            resyncAskedAt = 0;
            follow(p, g.term());
        }
    }

    private void follow(String p, long term) {
        followingPrimary = p;
        followingTerm = term;
        setCaughtUp(false, -1);
        lastFromPrimary = GroupMember.now();
        hello(p);
    }

    private void hello(String primary) {
        link.send(primary, ReplMessages.hello(link.me(), link.store().lastLsn(), link.store().lastChangeTerm()));
    }

    private boolean acceptFrom(String from, JsonObject m) {
        long t = m.getLong("term");
        var g = link.group();
        long known = g.term();
        if (t < known) {
            link.send(from, ReplMessages.nack(link.me(), known, "term " + t + " is older than term " + known + " known here"));
            return false;
        }
        return g.role() == NodeRole.SECONDARY && from.equals(g.primary());
    }

    /**
     * One change batch, or several consecutive ones of the same sender and term (in order), applied in one
     * transaction; {@code received} is when the first of them reached this node ({@link dev.tandem.metrics.WriteTrace}).
     */
    void onChanges(String from, List<JsonObject> ms, long received) {
        JsonObject m = ms.get(ms.size() - 1); // the newest: its primaryLsn covers the others'
        if (!acceptFrom(from, m)) return;
        var store = link.store();
        lastFromPrimary = GroupMember.now();
        if (resyncPending()) return; // the stream starts again after the copy is installed
        if (ms.size() == 1 && m.getJsonArray("changes").isEmpty()) {
            // batches arrive in order, so everything sent before this one has been applied
            setCaughtUp(store.lastLsn() >= m.getLong("primaryLsn"), m.getLong("term"));
            if (!caughtUp) hello(from);
            else link.send(from, ReplMessages.ack(link.me(), store.lastLsn()));
            return;
        }
        long started = dev.tandem.metrics.WriteTrace.now();
        List<Change> batch = ReplMessages.changesOf(ms);
        long before = store.lastLsn();
        long last = link.replica().apply(batch);
        store.syncIfConfigured(); // replication.fsync: on disk here before the primary may acknowledge
        Change newest = batch.get(batch.size() - 1);
        if (last < newest.lsn()) {
            // a gap (a batch went missing): acknowledge what was applied, ask again from where we are
            if (last > before) link.send(from, ReplMessages.ack(link.me(), last));
            hello(from);
            return;
        }
        lagMillis = Math.max(0, System.currentTimeMillis() - newest.timestamp());
        setCaughtUp(last >= m.getLong("primaryLsn"), m.getLong("term"));
        long applied = dev.tandem.metrics.WriteTrace.now();
        link.send(from, ReplMessages.ack(link.me(), last));
        var trace = new dev.tandem.metrics.WriteTrace.Apply();
        if (trace.isEnabled()) {
            trace.firstLsn = batch.get(0).lsn();
            trace.lastLsn = newest.lsn();
            trace.receivedNanos = received;
            trace.startNanos = started;
            trace.appliedNanos = applied;
            trace.ackedNanos = dev.tandem.metrics.WriteTrace.now();
            trace.commit();
        }
    }

    /**
     * The primary's term ranges, its answer to a hello it could not stream from: what of this node's history is
     * not in the primary's is preserved, then a resync. When none is (the hello was older), a new hello.
     */
    void onHistory(String from, JsonObject m) {
        var g = link.group();
        if (g.role() != NodeRole.SECONDARY || !from.equals(g.primary())) return;
        lastFromPrimary = GroupMember.now();
        if (resyncPending()) {
            // an answer to a hello sent before the resync was asked: the divergent changes are preserved already
            log.info("{}'s term ranges ignored: a full copy was asked for {} ms ago and is on its way", from, GroupMember.now() - resyncAskedAt);
            return;
        }
        long common = commonPoint(link.replica().termRanges(), m.getJsonArray("ranges"));
        long mine = link.store().lastLsn();
        if (mine <= common) {
            // an answer to an older hello: this node's log is in the primary's history by now (a snapshot was
            // installed meanwhile, say). A resync would copy everything again for nothing; a hello is checked afresh.
            log.info("{}'s history includes lsn {} here: asking to stream from it (the history answered an older hello)", from, mine);
            hello(from);
            return;
        }
        int n = link.replica().preserveDivergentAfter(common, "diverged from " + from + "'s history after lsn " + common);
        log.warn("divergence: {} changes after lsn {} are not in the group's history; preserved in the divergent table", n, common);
        link.events().publish(EventId.DIVERGENCE_PRESERVED, new JsonObject().put("changes", n).put("after_lsn", common).put("primary", from));
        resyncs++;
        resyncAskedAt = GroupMember.now();
        link.send(from, ReplMessages.resync(link.me()));
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

    void onSnapshot(String from, JsonObject m) {
        if (!acceptFrom(from, m)) return;
        lastFromPrimary = GroupMember.now();
        if (m.getInteger("part") == 0) snapshotDocs = new ArrayList<>();
        if (snapshotDocs == null) return;
        snapshotDocs.addAll(ReplMessages.docsOf(m));
        if (m.getInteger("part") == m.getInteger("parts") - 1) {
            long t0 = GroupMember.now();
            link.replica().install(new Snapshot(m.getLong("lsn"), m.getLong("lsnTerm"), snapshotDocs));
            log.info("snapshot installed: {} documents at lsn {} in {} ms", snapshotDocs.size(), m.getLong("lsn"), GroupMember.now() - t0);
            snapshotDocs = null;
            resyncAskedAt = 0;
            snapshotsInstalled++;
            lastFromPrimary = GroupMember.now(); // the install took a while: the next tick owes no second hello for it
            hello(from);
        }
    }
}
