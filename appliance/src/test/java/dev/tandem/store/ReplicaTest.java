package dev.tandem.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store side of replication: what a secondary does with the primary's changes. */
class ReplicaTest {
    @TempDir
    Path primaryDir;
    @TempDir
    Path secondaryDir;

    static long write(Store s, String key, String json) {
        try (StoreTx tx = s.begin("wf")) {
            tx.put("c", key, json);
            return tx.commit();
        }
    }

    @Test
    void applyingTheChangeLogReproducesThePrimaryAndIsIdempotent() {
        try (Store p = Store.open(primaryDir); Store s = Store.open(secondaryDir)) {
            p.setWriteTerm(2);
            for (int i = 0; i < 50; i++) write(p, "k" + i, "{\"i\":" + i + "}");
            try (StoreTx tx = p.begin("wf")) {
                tx.delete("c", "k7");
                tx.commit();
            }
            List<Change> log = p.changesAfter(0, 1000);
            assertThat(s.replica().apply(log.subList(0, 20))).isEqualTo(20);
            assertThat(s.replica().apply(log)).isEqualTo(51);
            assertThat(s.replica().apply(log)).as("applying again changes nothing").isEqualTo(51);
            assertThat(s.replica().snapshot()).isEqualTo(p.replica().snapshot());
            assertThat(s.lastChangeTerm()).isEqualTo(2);
            assertThat(s.changesAfter(0, 1000)).isEqualTo(log);
            assertThat(s.changesToShip(10, 1000)).as("applied changes ship from memory as they are in the log").isEqualTo(log.subList(10, 51));
        }
    }

    @Test
    void anInstalledSnapshotReplacesTheChangesKeptForShipping() {
        try (Store p = Store.open(primaryDir); Store s = Store.open(secondaryDir)) {
            for (int i = 0; i < 5; i++) write(s, "old" + i, "1"); // the secondary's own (soon replaced) history
            for (int i = 0; i < 8; i++) write(p, "k" + i, "2");
            s.replica().install(p.replica().snapshot());
            assertThat(s.lastLsn()).isEqualTo(8);
            assertThat(s.changesToShip(2, 10)).as("nothing before the snapshot point").isEmpty();
            write(p, "k8", "3");
            assertThat(s.replica().apply(p.changesAfter(8, 10))).isEqualTo(9);
            assertThat(s.changesToShip(8, 10)).isEqualTo(p.changesAfter(8, 10));
        }
    }

    @Test
    void theSystemListenerHearsOfAppliedSystemChangesAndSnapshotsOnly() {
        try (Store p = Store.open(primaryDir); Store s = Store.open(secondaryDir)) {
            java.util.concurrent.atomic.AtomicInteger heard = new java.util.concurrent.atomic.AtomicInteger();
            s.onSystemApplied(heard::incrementAndGet);
            write(p, "k", "1");
            s.replica().apply(p.changesAfter(0, 100));
            assertThat(heard).as("a workflow's change").hasValue(0);
            try (StoreTx tx = p.begin(Store.SYSTEM_NS)) {
                tx.put("workflows", "w", "{}");
                tx.commit();
            }
            s.replica().apply(p.changesAfter(0, 100));
            assertThat(heard).as("a _system change").hasValue(1);
            s.replica().install(p.replica().snapshot());
            assertThat(heard).as("a snapshot may hold anything").hasValue(2);
        }
    }

    @Test
    void aGapStopsTheBatchAtTheLastContiguousChange() {
        try (Store p = Store.open(primaryDir); Store s = Store.open(secondaryDir)) {
            for (int i = 0; i < 10; i++) write(p, "k" + i, "1");
            List<Change> log = p.changesAfter(0, 100);
            assertThat(s.replica().apply(log.subList(0, 3))).isEqualTo(3);
            assertThat(s.replica().apply(log.subList(5, 10))).as("4 and 5 are missing").isEqualTo(3);
            assertThat(s.lastLsn()).isEqualTo(3);
        }
    }

    @Test
    void termsOfTheLogAreKnownByLsnAndByRange() {
        try (Store p = Store.open(primaryDir)) {
            p.setWriteTerm(1);
            write(p, "a", "1");
            write(p, "b", "1");
            p.setWriteTerm(3);
            write(p, "c", "1");
            assertThat(p.replica().termAt(2)).isEqualTo(1);
            assertThat(p.replica().termAt(3)).isEqualTo(3);
            assertThat(p.replica().termAt(9)).isEqualTo(-1);
            assertThat(p.replica().termRanges()).containsExactly(new long[] {1, 1, 2}, new long[] {3, 3, 3});
        }
    }

    @Test
    void aSnapshotOverANearlyEqualStoreLeavesExactlyTheSnapshotsDocuments() {
        try (Store p = Store.open(primaryDir); Store s = Store.open(secondaryDir)) {
            for (int i = 0; i < 300; i++) write(p, "k" + i, "\"v" + i + "\"");
            s.replica().apply(p.changesAfter(0, 1000));
            write(s, "only-here", "1");          // the secondary's divergent tail: goes
            write(s, "k3", "\"changed here\"");  // a value that differs: the snapshot's wins
            try (StoreTx tx = s.begin("wf")) {    // a document the snapshot has and this store lost: comes back
                tx.delete("c", "k4");
                tx.commit();
            }
            try (StoreTx tx = p.begin("other")) { // another namespace, same collection and key
                tx.put("c", "k5", "\"ns\"");
                tx.commit();
            }
            Snapshot snap = p.replica().snapshot();
            s.replica().install(snap);
            assertThat(s.replica().snapshot()).isEqualTo(snap);
            try (StoreTx tx = s.begin("wf")) {
                assertThat(tx.get("c", "only-here")).isNull();
                assertThat(tx.get("c", "k3")).isEqualTo("\"v3\"");
                assertThat(tx.get("c", "k4")).isEqualTo("\"v4\"");
            }
        }
    }

    @Test
    void aSnapshotInstallsEveryDocumentAndStartsTheLogAfterIt() {
        try (Store p = Store.open(primaryDir); Store s = Store.open(secondaryDir)) {
            p.setWriteTerm(4);
            for (int i = 0; i < 2500; i++) write(p, "k" + i, "\"v" + i + "\"");
            write(s, "stale", "1"); // the secondary's own old data goes
            Snapshot snap = p.replica().snapshot();
            s.replica().install(snap);
            assertThat(s.replica().snapshot()).isEqualTo(snap);
            assertThat(s.lastLsn()).isEqualTo(2500);
            assertThat(s.lastChangeTerm()).isEqualTo(4);
            write(p, "after", "1");
            assertThat(s.replica().apply(p.changesAfter(s.lastLsn(), 10))).isEqualTo(2501);
        }
        try (Store s = Store.open(secondaryDir)) {
            assertThat(s.lastLsn()).as("the base point survives a restart").isEqualTo(2501);
            assertThat(s.replica().termAt(2500)).isEqualTo(4);
        }
    }

    @Test
    void divergentChangesAreKeptAndListed() {
        try (Store s = Store.open(secondaryDir)) {
            s.setWriteTerm(5);
            for (int i = 0; i < 5; i++) write(s, "k" + i, "1");
            assertThat(s.replica().preserveDivergentAfter(2, "test")).isEqualTo(3);
            var kept = s.replica().divergent(10);
            assertThat(kept).hasSize(3);
            assertThat(kept.getJsonObject(0).getLong("lsn")).isEqualTo(3);
            assertThat(kept.getJsonObject(0).getLong("term")).isEqualTo(5);
            assertThat(kept.getJsonObject(0).getJsonArray("ops").getJsonObject(0).getString("k")).isEqualTo("k2");
            assertThat(s.replica().preserveDivergentAfter(2, "again")).as("found divergent a second time: kept once").isZero();
            assertThat(s.replica().preserveDivergentAfter(1, "wider")).as("only the change not kept yet").isEqualTo(1);
            assertThat(s.replica().divergentCount()).isEqualTo(4);
        }
    }

    @Test
    void truncationKeepsTheNewestChangesAndABasePoint() {
        try (Store p = Store.open(primaryDir)) {
            p.setWriteTerm(2);
            for (int i = 0; i < 30; i++) write(p, "k" + i, "1");
            p.replica().truncate(10);
            assertThat(p.replica().streamableAfter()).isEqualTo(20);
            assertThat(p.changesAfter(0, 100)).hasSize(10);
            assertThat(p.replica().termAt(20)).isEqualTo(2);
            assertThat(p.lastLsn()).isEqualTo(30);
        }
        try (Store p = Store.open(primaryDir)) {
            assertThat(p.lastLsn()).isEqualTo(30);
            assertThat(p.replica().streamableAfter()).isEqualTo(20);
        }
    }
}
