package dev.tandem.cluster;

import static dev.tandem.cluster.LocalGroup.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.api.NodeRole;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real JChannels in one JVM; partitions made with JGroups' DISCARD protocol. */
class PartitionTest {
    @TempDir
    Path root;

    static final Duration SOON = Duration.ofSeconds(60); // a deadline, not a bound: CI machines run 2-3x slower than a quiet one

    @Test
    void pairWithWitness_theMinoritySideStepsDownAndTheMajorityElects() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String a = g.awaitPrimaryAndSecondary(SOON), b = LocalGroup.other(a);
            // the decision lines say who is primary (the coordinator's, and what the others follow), not just anything
            await("the decision lines name " + a + " as primary", SOON, () -> g.group(a).lastDecision().contains(a)
                    && g.group("witness").lastDecision().contains(a) && g.group("witness").lastDecision().contains("primary"));
            long term = g.group(a).term();

            g.isolate(a);
            await(a + " steps down, " + b + " is elected: " + g.primaries(), SOON,
                    () -> g.role(a) == NodeRole.NOT_IN_GROUP && g.role(b) == NodeRole.PRIMARY);
            assertThat(g.group(a).mayAcknowledge()).isFalse();
            assertThat(g.group(b).term()).isGreaterThan(term);
            await(b + " holds its lease", SOON, () -> g.group(b).mayAcknowledge());

            g.heal();
            await(a + " rejoins as secondary: " + g.primaries(), Duration.ofSeconds(60),
                    () -> g.role(a) == NodeRole.SECONDARY && g.role(b) == NodeRole.PRIMARY);
            assertThat(g.group(a).term()).isEqualTo(g.group(b).term());
        }
    }

    @Test
    void pairWithoutWitnessAndQuorumNone_bothServeWhileCutAndConvergeOnHeal() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "none", "node-a:data", "node-b:data")) {
            // with quorum none whoever comes up first is primary at once; the other follows it
            await("one primary: " + g.primaries(), SOON, () -> (g.role("node-a") == NodeRole.PRIMARY) != (g.role("node-b") == NodeRole.PRIMARY)
                    && (g.role("node-a") == NodeRole.SECONDARY || g.role("node-b") == NodeRole.SECONDARY));
            String first = g.role("node-a") == NodeRole.PRIMARY ? "node-a" : "node-b";
            String other = first.equals("node-a") ? "node-b" : "node-a";

            g.isolate(first);
            await("both primary while cut: " + g.primaries(), SOON,
                    () -> g.role("node-a") == NodeRole.PRIMARY && g.role("node-b") == NodeRole.PRIMARY);
            await("both acknowledge writes (availability first)", SOON,
                    () -> g.group("node-a").mayAcknowledge() && g.group("node-b").mayAcknowledge());
            long termOther = g.group(other).term();
            assertThat(termOther).isGreaterThan(g.group(first).term());

            g.heal();
            await("one primary again, the newer term's: " + g.primaries(), Duration.ofSeconds(60),
                    () -> g.role(other) == NodeRole.PRIMARY && g.role(first) == NodeRole.SECONDARY);
            assertThat(g.group(other).term()).isEqualTo(termOther);
        }
    }

    @Test
    void maintenancePausesFailoverAndIsSharedByTheGroup() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String a = g.awaitPrimaryAndSecondary(SOON), b = LocalGroup.other(a);
            g.group(b).setMaintenance(true).get();
            await("maintenance reaches every node", SOON, () -> g.nodes.values().stream().allMatch(n -> n.group().maintenance()));

            g.isolate(a);
            await(a + " steps down", SOON, () -> g.role(a) == NodeRole.NOT_IN_GROUP);
            await("the majority side decides not to elect", SOON,
                    () -> g.group(b).lastDecision().contains("maintenance") || g.group("witness").lastDecision().contains("maintenance"));
            assertThat(g.role(b)).isNotEqualTo(NodeRole.PRIMARY);

            g.group("witness").setMaintenance(false).get();
            await("failover resumes: " + b + " elected", SOON, () -> g.role(b) == NodeRole.PRIMARY);
        }
    }

    @Test
    void plannedSwitchoverBothWays() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String a = g.awaitPrimaryAndSecondary(SOON), b = LocalGroup.other(a);
            await("the witness knows the primary", SOON, () -> a.equals(g.group("witness").primary()));
            var r = g.group("witness").switchover(b).get();
            assertThat(r.getBoolean("ok")).as(r.encode()).isTrue();
            await(b + " primary", SOON, () -> g.role(b) == NodeRole.PRIMARY && g.role(a) == NodeRole.SECONDARY);
            r = g.group(b).switchover(null).get();
            assertThat(r.getBoolean("ok")).as(r.encode()).isTrue();
            assertThat(r.getString("primary")).isEqualTo(a);
            await(a + " primary again", SOON, () -> g.role(a) == NodeRole.PRIMARY && g.role(b) == NodeRole.SECONDARY);
            var refused = g.group(a).switchover("witness").get();
            assertThat(refused.getBoolean("ok")).isFalse();
            assertThat(refused.getString("message")).contains("not a data node");
        }
    }
}
