package dev.tandem.cluster;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.api.NodeRole;
import dev.tandem.node.TandemNode;
import dev.tandem.store.StoreTx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replication between real nodes in one JVM (real JChannels, real H2 files); partitions with DISCARD. */
class ReplicationGroupTest {
    @TempDir
    Path root;
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only

    /** Writes n documents on {@code node} (it must be primary) and waits until each is acknowledged as the mode promises. */
    static void write(TandemNode node, String prefix, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            long lsn;
            try (StoreTx tx = node.store().begin("test")) {
                tx.put("docs", prefix + i, "{\"i\":" + i + "}");
                lsn = tx.commit();
            }
            node.replication().awaitReplicated(lsn).get(10, TimeUnit.SECONDS);
        }
    }

    /** The other data node, once it has caught up with primary {@code pa}. */
    static TandemNode caughtUpSecondary(LocalGroup g, String pa) {
        TandemNode b = g.nodes.get(LocalGroup.other(pa));
        until("the secondary caught up", SOON, () -> b.replication().caughtUp());
        return b;
    }

    static void assertSameData(TandemNode a, TandemNode b) {
        assertThat(a.store().replica().snapshot()).as("documents, row by row, and the last lsn").isEqualTo(b.store().replica().snapshot());
        // a node rebuilt from a snapshot keeps the log only from the snapshot on
        long from = Math.max(a.store().replica().streamableAfter(), b.store().replica().streamableAfter());
        assertThat(a.store().changesAfter(from, Integer.MAX_VALUE)).as("the change logs").isEqualTo(b.store().changesAfter(from, Integer.MAX_VALUE));
    }

    @Test
    void syncWritesReachTheSecondary_aCutSecondaryDegradesThenCatchesUpOnHeal() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String pa = g.awaitPrimaryAndSecondary(SOON);
            TandemNode a = g.nodes.get(pa), b = caughtUpSecondary(g, pa);
            write(a, "before-", 200);
            assertThat(b.store().lastLsn()).as("sync: applied on the secondary before acknowledged").isEqualTo(a.store().lastLsn());

            g.isolate(LocalGroup.other(pa));
            write(a, "during-", 100); // the first waits until the view drops the secondary (or sync_timeout), then replication degrades
            assertThat(a.replication().degraded()).isTrue();
            assertThat(b.store().lastLsn()).isLessThan(a.store().lastLsn());

            g.heal();
            until("node-b caught up and replication restored", Duration.ofSeconds(60),
                    () -> b.replication().caughtUp() && !a.replication().degraded() && b.store().lastLsn() == a.store().lastLsn());
            write(a, "after-", 50);
            assertSameData(a, b);
        }
    }

    @Test
    void concurrentSyncWritesAreEachAcknowledgedAfterTheSecondaryAppliedThem() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String pa = g.awaitPrimaryAndSecondary(SOON);
            TandemNode a = g.nodes.get(pa), b = caughtUpSecondary(g, pa);
            var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
            try {
                var writers = new java.util.ArrayList<java.util.concurrent.Future<?>>();
                for (int t = 0; t < 8; t++) {
                    String prefix = "w" + t + "-";
                    writers.add(pool.submit(() -> {
                        for (int i = 0; i < 100; i++) {
                            long lsn;
                            try (StoreTx tx = a.store().begin("test")) {
                                tx.put("docs", prefix + i, "{\"i\":" + i + "}");
                                lsn = tx.commit();
                            }
                            a.replication().awaitReplicated(lsn).get(10, TimeUnit.SECONDS);
                            assertThat(b.store().lastLsn()).as("sync: applied on the secondary before acknowledged").isGreaterThanOrEqualTo(lsn);
                        }
                        return null;
                    }));
                }
                for (var w : writers) w.get(60, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            assertThat(a.replication().degraded()).isFalse();
            assertThat(a.store().lastLsn()).isEqualTo(800);
            assertSameData(a, b);
        }
    }

    /** Sends the other data node primary {@code pa}'s term ranges (a {@code repl.history}) as they are up to LSN {@code upTo}. */
    static void sendHistory(LocalGroup g, String pa, TandemNode a, long upTo) {
        io.vertx.core.json.JsonArray ranges = new io.vertx.core.json.JsonArray();
        for (long[] r : a.store().replica().termRanges()) {
            if (r[1] <= upTo) ranges.add(new io.vertx.core.json.JsonArray().add(r[0]).add(r[1]).add(Math.min(r[2], upTo)));
        }
        g.group(pa).channel().send(LocalGroup.other(pa), new io.vertx.core.json.JsonObject().put("type", "repl.history").put("from", pa).put("ranges", ranges));
    }

    /**
     * The long fault campaign: a restarted secondary said hello with its old log, installed a snapshot, and then
     * handled the primary's answer to that old hello (its term ranges) and asked for a second full copy, 10 s
     * more under load. A history that already includes this node's log leads to a hello, not a copy.
     */
    @Test
    void aHistoryThatAnswersAnOlderHello_leadsToAHelloNotAFullCopy() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String pa = g.awaitPrimaryAndSecondary(SOON);
            TandemNode a = g.nodes.get(pa), b = caughtUpSecondary(g, pa);
            write(a, "before-", 20);
            sendHistory(g, pa, a, Long.MAX_VALUE);
            write(a, "after-", 20); // sent after the history, so handled after it (one sender's messages arrive in order)
            assertThat(b.replication().info().getLong("resyncs")).as("full copies asked for").isZero();
            until("the secondary caught up", SOON, () -> b.replication().caughtUp() && b.store().lastLsn() == a.store().lastLsn());
            assertThat(b.replication().info().getLong("snapshots_installed")).isZero();
            assertSameData(a, b);
        }
    }

    /**
     * The long fault campaign: a restarted former primary got the primary's term ranges twice before its full copy
     * arrived (it said hello again while the primary built the copy), so it kept the same divergent changes twice
     * and asked for two copies. Once a copy is asked for, term ranges are ignored until it is installed, and a
     * change is kept once however often it is found divergent.
     */
    @Test
    void termRangesThatArriveWhileAFullCopyIsOnItsWay_areIgnored_andEachDivergentChangeIsKeptOnce() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String pa = g.awaitPrimaryAndSecondary(SOON);
            TandemNode a = g.nodes.get(pa), b = caughtUpSecondary(g, pa);
            write(a, "before-", 20);
            until("the secondary has every write", SOON, () -> b.store().lastLsn() == a.store().lastLsn());
            // term ranges that end 5 changes before the secondary's log: its last 5 look divergent to it. Twice, back
            // to back: the second is on its way before the secondary's resync reaches the primary
            long cut = a.store().lastLsn() - 5;
            sendHistory(g, pa, a, cut);
            sendHistory(g, pa, a, cut);
            until("the full copy installed and the secondary caught up", SOON, () -> b.replication().info().getLong("snapshots_installed") >= 1
                    && b.replication().caughtUp() && b.store().lastLsn() == a.store().lastLsn());
            assertThat(b.replication().info().getLong("resyncs")).as("full copies asked for").isEqualTo(1);
            assertThat(b.replication().info().getLong("snapshots_installed")).isEqualTo(1);
            assertThat(b.store().replica().divergentCount()).as("each divergent change kept once (G3)").isEqualTo(5);
            write(a, "after-", 20);
            assertSameData(a, b);
        }
    }

    @Test
    void quorumNone_theFormerPrimarysChangesArePreservedAsDivergentAndItFollowsTheGroup() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "none", "node-a:data", "node-b:data")) {
            until("one primary, the other caught up", SOON, () -> (g.role("node-a") == NodeRole.PRIMARY || g.role("node-b") == NodeRole.PRIMARY)
                    && (g.nodes.get("node-a").replication().caughtUp() || g.nodes.get("node-b").replication().caughtUp()));
            TandemNode first = g.role("node-a") == NodeRole.PRIMARY ? g.nodes.get("node-a") : g.nodes.get("node-b");
            TandemNode other = first == g.nodes.get("node-a") ? g.nodes.get("node-b") : g.nodes.get("node-a");
            write(first, "common-", 20);

            g.isolate(first == g.nodes.get("node-a") ? "node-a" : "node-b");
            until("both primary", SOON, () -> other.group().mayAcknowledge() && first.group().mayAcknowledge());
            write(other, "winner-", 30);  // newer term: this history wins
            write(first, "loser-", 10);   // these become divergent

            g.heal();
            until("the former primary follows the newer term and has caught up", Duration.ofSeconds(60),
                    () -> first.group().role() == NodeRole.SECONDARY && first.replication().caughtUp()
                            && first.store().lastLsn() == other.store().lastLsn());
            assertSameData(first, other);
            var kept = first.store().replica().divergent(100);
            assertThat(kept).as("nothing dropped silently (G3)").hasSize(10);
            assertThat(kept.getJsonObject(0).getJsonArray("ops").getJsonObject(0).getString("k")).startsWith("loser-");
            try (StoreTx tx = first.store().begin("test")) {
                assertThat(tx.get("docs", "loser-0")).isNull();
                assertThat(tx.get("docs", "winner-0")).isNotNull();
                assertThat(tx.get("docs", "common-0")).isNotNull();
            }
        }
    }
}
