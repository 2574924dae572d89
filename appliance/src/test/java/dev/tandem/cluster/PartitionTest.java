package dev.tandem.cluster;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.api.NodeRole;
import dev.tandem.testing.Await;
import dev.tandem.testing.Bound;
import dev.tandem.testing.Runbook;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real JChannels in one JVM; partitions made with JGroups' DISCARD protocol. */
class PartitionTest {
    @TempDir
    Path root;

    static final Duration SOON = Bound.soon().deadline(); // no promise behind it: the CI deadline only

    @Test
    void pairWithWitness_theMinoritySideStepsDownAndTheMajorityElects() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String a = g.awaitPrimaryAndSecondary(SOON), b = LocalGroup.other(a);
            long term = g.group(a).term();
            // the decision lines say who is primary (the coordinator's, and what the others follow), not just anything
            g.expectDecision(a, Runbook.namesPrimary(a, term)).within(Bound.soon());
            g.expectDecision("witness", Runbook.namesPrimary(a, term)).within(Bound.soon());

            g.isolate(a);
            g.expectRole(a, "NOT_IN_GROUP").within(Bound.soon());
            g.expectPrimary(b).within(Bound.freeze(Duration.ofSeconds(1))); // found as a freeze is: by missed heartbeats (failure_timeout 1 s)
            assertThat(g.group(a).mayAcknowledge()).isFalse();
            assertThat(g.group(b).term()).isGreaterThan(term);

            g.heal();
            until(a + " rejoins as secondary: " + g.primaries(), Duration.ofSeconds(60),
                    () -> g.role(a) == NodeRole.SECONDARY && g.role(b) == NodeRole.PRIMARY);
            assertThat(g.group(a).term()).isEqualTo(g.group(b).term());
        }
    }

    @Test
    void pairWithoutWitnessAndQuorumNone_bothServeWhileCutAndConvergeOnHeal() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "none", "node-a:data", "node-b:data")) {
            // with quorum none whoever comes up first is primary at once; the other follows it
            until("one primary: " + g.primaries(), SOON, () -> (g.role("node-a") == NodeRole.PRIMARY) != (g.role("node-b") == NodeRole.PRIMARY)
                    && (g.role("node-a") == NodeRole.SECONDARY || g.role("node-b") == NodeRole.SECONDARY));
            String first = g.role("node-a") == NodeRole.PRIMARY ? "node-a" : "node-b";
            String other = first.equals("node-a") ? "node-b" : "node-a";

            g.isolate(first);
            until("both primary while cut: " + g.primaries(), SOON,
                    () -> g.role("node-a") == NodeRole.PRIMARY && g.role("node-b") == NodeRole.PRIMARY);
            until("both acknowledge writes (availability first)", SOON,
                    () -> g.group("node-a").mayAcknowledge() && g.group("node-b").mayAcknowledge());
            long termOther = g.group(other).term();
            assertThat(termOther).isGreaterThan(g.group(first).term());

            g.heal();
            until("one primary again, the newer term's: " + g.primaries(), Duration.ofSeconds(60),
                    () -> g.role(other) == NodeRole.PRIMARY && g.role(first) == NodeRole.SECONDARY);
            assertThat(g.group(other).term()).isEqualTo(termOther);
        }
    }

    @Test
    void maintenancePausesFailoverAndIsSharedByTheGroup() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String a = g.awaitPrimaryAndSecondary(SOON), b = LocalGroup.other(a);
            g.maintenance(b, true);
            until("maintenance reaches every node", SOON, () -> g.nodes.values().stream().allMatch(n -> n.group().maintenance()));

            g.isolate(a);
            g.expectRole(a, "NOT_IN_GROUP").within(Bound.soon());
            // not just "maintenance" (every line says so once it is on): the majority side sees no primary and elects none
            g.expectDecision(b, "no primary").within(Bound.soon());
            assertThat(g.decision(b)).contains("maintenance: automatic failover paused");
            Await.holdsFor(b + " is not elected while in maintenance", Duration.ofSeconds(3), () -> g.role(b) != NodeRole.PRIMARY);

            g.maintenance("witness", false);
            g.expectPrimary(b).within(Bound.soon());
        }
    }

    @Test
    void plannedSwitchoverBothWays() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String a = g.awaitPrimaryAndSecondary(SOON), b = LocalGroup.other(a);
            until("the witness knows the primary", SOON, () -> a.equals(g.group("witness").primary()));
            var r = g.switchover("witness", b);
            assertThat(r.getBoolean("ok")).as(r.encode()).isTrue();
            g.expectPrimary(b).within(Bound.switchover());
            until(b + " primary", SOON, () -> g.role(b) == NodeRole.PRIMARY && g.role(a) == NodeRole.SECONDARY);
            r = g.group(b).switchover(null).get();
            assertThat(r.getBoolean("ok")).as(r.encode()).isTrue();
            assertThat(r.getString("primary")).isEqualTo(a);
            until(a + " primary again", SOON, () -> g.role(a) == NodeRole.PRIMARY && g.role(b) == NodeRole.SECONDARY);
            var refused = g.group(a).switchover("witness").get();
            assertThat(refused.getBoolean("ok")).isFalse();
            assertThat(refused.getString("message")).contains("not a data node");
        }
    }
}
