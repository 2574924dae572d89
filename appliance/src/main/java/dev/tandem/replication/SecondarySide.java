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
 * The secondary's side of replication (on the replication thread): it says hello to a new primary (or
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

    private void setCaughtUp(boolean value, long primaryTerm) {
        caughtUp = value;
        caughtUpTerm = value ? primaryTerm : -1;
    }

    /** Not a secondary (any more): nothing is followed. */
    void stop() {
        setCaughtUp(false, -1);
        followingPrimary = null;
    }

    /** Each tick while not primary: a new primary, or a stream that stalled, gets a hello. */
    void tick() {
        var g = link.group();
        String p = g.primary();
        if (g.role() != NodeRole.SECONDARY || p == null) {
            stop();
        } else if (!p.equals(followingPrimary) || followingTerm != g.term() || GroupMember.now() - lastFromPrimary > 1000) {
            followingPrimary = p;
            followingTerm = g.term();
            setCaughtUp(false, -1);
            lastFromPrimary = GroupMember.now();
            hello(p);
        }
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

    /** One change batch, or several consecutive ones of the same sender and term (in order), applied in one transaction. */
    void onChanges(String from, List<JsonObject> ms) {
        JsonObject m = ms.get(ms.size() - 1); // the newest: its primaryLsn covers the others'
        if (!acceptFrom(from, m)) return;
        var store = link.store();
        lastFromPrimary = GroupMember.now();
        if (ms.size() == 1 && m.getJsonArray("changes").isEmpty()) {
            // batches arrive in order, so everything sent before this one has been applied
            setCaughtUp(store.lastLsn() >= m.getLong("primaryLsn"), m.getLong("term"));
            if (!caughtUp) hello(from);
            else link.send(from, ReplMessages.ack(link.me(), store.lastLsn()));
            return;
        }
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
        link.send(from, ReplMessages.ack(link.me(), last));
    }

    /** The primary's term ranges: what of this node's history is not in the primary's is preserved, then a resync. */
    void onHistory(String from, JsonObject m) {
        var g = link.group();
        if (g.role() != NodeRole.SECONDARY || !from.equals(g.primary())) return;
        long common = commonPoint(link.replica().termRanges(), m.getJsonArray("ranges"));
        long mine = link.store().lastLsn();
        if (mine > common) {
            int n = link.replica().preserveDivergentAfter(common, "diverged from " + from + "'s history after lsn " + common);
            log.warn("divergence: {} changes after lsn {} are not in the group's history; preserved in the divergent table", n, common);
            link.events().publish(EventId.DIVERGENCE_PRESERVED, new JsonObject().put("changes", n).put("after_lsn", common).put("primary", from));
        }
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
            hello(from);
        }
    }
}
