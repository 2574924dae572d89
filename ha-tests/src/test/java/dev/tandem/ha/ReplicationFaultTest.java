package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.IpamClients;
import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * G2 on real processes: ipam clients allocate continuously through both nodes while the primary is
 * killed (kill -9) or frozen (SIGSTOP). Afterwards every acknowledged allocation exists on the new
 * primary, with its owner, and no address was handed out twice.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicationFaultTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    @TempDir
    static Path root;
    static ProcessGroup group;

    @BeforeAll
    static void startGroup() throws Exception {
        group = ProcessGroup.start(root, "replication: {log_retention: 1000}");
        NodeProcess p = group.awaitPrimary(SOON);
        var r = ProcessGroup.post(p, "/workflows/ipam/pools", "{\"name\": \"lab\", \"cidr\": \"10.0.0.0/12\"}", Duration.ofSeconds(10));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        // ipam's status route (role API): the secondary serves it itself and says it takes no allocations
        NodeProcess s = group.awaitPrimaryAndSecondary(SOON).secondary();
        JsonObject status = ProcessGroup.getJson(s, "/workflows/ipam/");
        assertThat(status.getString("role")).isEqualTo("SECONDARY");
        assertThat(status.getBoolean("writable")).isFalse();
        assertThat(status.getInteger("pools")).isEqualTo(1);
    }

    @AfterAll
    static void stopGroup() {
        if (group != null) group.close();
    }

    static long lsn(NodeProcess n) {
        return ProcessGroup.getJson(n, "/api/v1/node").getLong("lsn");
    }

    static void checkEveryAcknowledgedAllocationSurvived(NodeProcess primary, IpamClients load) {
        assertThat(load.duplicates).as("addresses handed out twice").isEmpty();
        assertThat(load.acknowledged).as("the load really ran").hasSizeGreaterThan(50);
        Map<String, String> stored = load.storedOn(primary); // fails on an address stored twice
        load.acknowledged.forEach((ip, owner) -> assertThat(stored.get(ip)).as("acknowledged allocation %s (%s) after failover", ip, owner).isEqualTo(owner));
    }

    /**
     * Clients allocate through both nodes; {@code fault} hits primary {@code p}; once writes go on at {@code s},
     * {@code after} runs with the load still on. The load always stops, and a frozen {@code p} is always thawed,
     * so a failure here does not leave a frozen node or running clients to the next test.
     */
    static IpamClients faultDuringLoad(NodeProcess p, NodeProcess s, Runnable fault, ThrowingConsumer<IpamClients> after) throws Exception {
        IpamClients load = new IpamClients("lab", List.of(p, s), 3);
        try {
            until("load running", SOON, () -> load.acknowledged.size() > 100);
            fault.run();
            NodeProcess newPrimary = group.awaitPrimary(SOON);
            assertThat(newPrimary.name).as("the new primary").isEqualTo(s.name);
            int before = load.acknowledged.size();
            until("writes go on at the new primary", SOON, () -> load.acknowledged.size() > before + 100);
            after.accept(load);
        } finally {
            load.stop();
            if (p.frozen()) p.cont();
        }
        return load;
    }

    interface ThrowingConsumer<T> {
        void accept(T t) throws Exception;
    }

    @Test
    @Order(1)
    void killMinus9DuringLoad_noAcknowledgedAllocationIsLost() throws Exception {
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        NodeProcess p = pair.primary(), s = pair.secondary();
        IpamClients load = faultDuringLoad(p, s, p::kill9, l -> {});
        checkEveryAcknowledgedAllocationSurvived(s, load);
        p.start();
        p.awaitStatus200("/health/secondary", Duration.ofSeconds(120));
    }

    @Test
    @Order(2)
    void sigstopDuringLoad_noAcknowledgedAllocationIsLost() throws Exception {
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        NodeProcess p = pair.primary(), s = pair.secondary();
        IpamClients load = faultDuringLoad(p, s, p::stop, l -> {
            long survivorLsnAtThaw = lsn(s); // read before the thaw: whatever p syncs with later is at least this
            p.cont();
            ProcessGroup.awaitInSync(p, SOON); // the thawed node follows
            assertThat(lsn(p)).as("'in sync' (/health/secondary 200) means it has what the primary had when it woke")
                    .isGreaterThanOrEqualTo(survivorLsnAtThaw);
        });
        checkEveryAcknowledgedAllocationSurvived(s, load);
    }

    @Test
    @Order(3)
    void switchoversDuringLoad_everyWriteCommittedBeforeAHandoverIsAcknowledged() throws Exception {
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        NodeProcess from = pair.primary(), to = pair.secondary();
        IpamClients load = new IpamClients("lab", List.of(from, to), 3);
        try {
            until("load running", SOON, () -> load.size() > 100);
            for (int i = 0; i < 6; i++) { // back and forth: the race it guards against showed in about 1 of 20
                ProcessGroup.switchover(from, to.name);
                int before = load.size();
                NodeProcess target = to;
                until("writes go on at " + target.name, SOON, () -> load.size() > before + 30);
                to = from;
                from = target;
            }
        } finally {
            load.stop();
        }
        checkEveryAcknowledgedAllocationSurvived(group.awaitPrimary(SOON), load);
        // writes committed on the old primary before it closed its gate are in the target's history (the switchover
        // waits for that): they are acknowledged, not refused as "cannot be confirmed" after a 3 s wait
        assertThat(load.lastFailures).noneMatch(f -> f.contains("cannot be confirmed"));
    }

    @Test
    @Order(4)
    void aSecondaryThatMissedMoreThanTheLogHoldsIsRebuiltFromASnapshot() throws Exception {
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        NodeProcess p = pair.primary(), s = pair.secondary();
        s.kill9();
        IpamClients load = new IpamClients("lab", List.of(p), 4); // sync degrades after sync_timeout, then writes go on
        try {
            until("3,000 changes while the secondary is away (log_retention is 1000)", Duration.ofSeconds(120),
                    () -> load.acknowledged.size() > 3000);
        } finally {
            load.stop();
        }
        s.start();
        s.awaitStatus200("/health/secondary", Duration.ofSeconds(120));
        assertThat(s.logTail(400)).contains("snapshot installed");
        ProcessGroup.switchover(p, s.name);
        checkEveryAcknowledgedAllocationSurvived(group.awaitPrimary(SOON), load);
    }
}
