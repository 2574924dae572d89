package dev.tandem.core;

import dev.tandem.api.NodeRole;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The election as tables of scenarios an operator would recognise. */
class ElectionTest {
    static MemberState data(String name, int priority, NodeRole role, long term, long lastTerm, long lsn) {
        return new MemberState(name, false, priority, role, term, lastTerm, lsn);
    }

    static MemberState witness(long term) {
        return new MemberState("witness", true, 0, NodeRole.WITNESS, term, 0, 0);
    }

    static GroupView view(List<MemberState> members, boolean preempt, boolean maintenance) {
        return new GroupView("x", members, 3, true, preempt, maintenance);
    }

    static Stream<Arguments> scenarios() {
        return Stream.of(
                Arguments.of("primary killed: the secondary with all the data is elected",
                        view(List.of(data("node-b", 100, NodeRole.SECONDARY, 4, 4, 120), witness(4)), false, false),
                        "ELECT node-b term 5: no primary in the view; node-b has the most recent data (term 4, lsn 120), priority 100"),
                Arguments.of("most recent data wins over priority",
                        view(List.of(data("node-a", 200, NodeRole.SECONDARY, 4, 3, 900), data("node-b", 100, NodeRole.SECONDARY, 4, 4, 10), witness(4)), false, false),
                        "ELECT node-b term 5"),
                Arguments.of("same data: priority decides",
                        view(List.of(data("node-a", 100, NodeRole.SECONDARY, 4, 4, 50), data("node-b", 150, NodeRole.SECONDARY, 4, 4, 50), witness(4)), false, false),
                        "ELECT node-b term 5"),
                Arguments.of("same data and priority: the name decides, alphabetically",
                        view(List.of(data("node-b", 100, NodeRole.SECONDARY, 4, 4, 50), data("node-a", 100, NodeRole.SECONDARY, 4, 4, 50), witness(4)), false, false),
                        "ELECT node-a term 5"),
                Arguments.of("priority 0 is never promoted automatically",
                        view(List.of(data("node-b", 0, NodeRole.SECONDARY, 4, 4, 120), witness(4)), false, false),
                        "no action: no eligible data node in the view (node-b have priority 0)"),
                Arguments.of("minority side does nothing",
                        view(List.of(data("node-b", 100, NodeRole.SECONDARY, 4, 4, 120)), false, false),
                        "no action: no quorum: 1 of 3 voters visible, 2 needed"),
                Arguments.of("healthy primary stays, even with a higher-priority secondary back (preempt off)",
                        view(List.of(data("node-a", 200, NodeRole.SECONDARY, 5, 5, 70), data("node-b", 100, NodeRole.PRIMARY, 5, 5, 70), witness(5)), false, false),
                        "no action: primary node-b (term 5) is in the view"),
                Arguments.of("preempt: the higher-priority node takes the role back once caught up",
                        view(List.of(data("node-a", 200, NodeRole.SECONDARY, 5, 5, 70), data("node-b", 100, NodeRole.PRIMARY, 5, 5, 70), witness(5)), true, false),
                        "HAND_OVER node-a term 6"),
                Arguments.of("preempt waits until the returning node has caught up",
                        view(List.of(data("node-a", 200, NodeRole.SECONDARY, 5, 5, 60), data("node-b", 100, NodeRole.PRIMARY, 5, 5, 70), witness(5)), true, false),
                        "no action: primary node-b"),
                Arguments.of("maintenance pauses automatic failover",
                        view(List.of(data("node-b", 100, NodeRole.SECONDARY, 4, 4, 120), witness(4)), false, true),
                        "no action: maintenance: automatic failover paused"),
                Arguments.of("maintenance also pauses preemption",
                        view(List.of(data("node-a", 200, NodeRole.SECONDARY, 5, 5, 70), data("node-b", 100, NodeRole.PRIMARY, 5, 5, 70), witness(5)), true, true),
                        "no action: primary node-b"),
                Arguments.of("the new term is above every term in the view",
                        view(List.of(data("node-b", 100, NodeRole.SECONDARY, 9, 4, 120), witness(11)), false, false),
                        "ELECT node-b term 12"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void decides(String scenario, GroupView view, String expected) {
        assertThat(Election.decide(view).toString()).startsWith(expected);
    }

    @Test
    void aPrimaryHeardFromBeforeTheViewsMergeIsWaitedFor() {
        MemberState a = data("node-a", 100, NodeRole.SECONDARY, 8, 7, 30); // just stepped down on seeing term 8
        MemberState b = data("node-b", 100, NodeRole.PRIMARY, 8, 8, 50);  // speaks to us, not yet in our view
        GroupView view = new GroupView("node-a", List.of(a), List.of(b), 2, false, false, false);
        assertThat(Election.decide(view).toString())
                .isEqualTo("no action: primary node-b (term 8) is reachable but not yet in the view; waiting for the merge");
        GroupView older = new GroupView("node-a", List.of(a), List.of(data("node-b", 100, NodeRole.PRIMARY, 7, 7, 50)), 2, false, false, false);
        assertThat(Election.decide(older).action()).as("a primary of an older term is no reason to wait").isEqualTo(Decision.Action.ELECT);
    }

    @Test
    void afterAHealedPartitionTheHigherTermPrimaryIsKeptThenPriorityThenName() {
        MemberState a5 = data("node-a", 100, NodeRole.PRIMARY, 5, 5, 10);
        MemberState b6 = data("node-b", 50, NodeRole.PRIMARY, 6, 6, 3);
        assertThat(Election.yields(a5, b6)).isTrue();
        assertThat(Election.yields(b6, a5)).isFalse();
        MemberState a6 = data("node-a", 100, NodeRole.PRIMARY, 6, 6, 10);
        assertThat(Election.yields(b6, a6)).as("same term: higher priority kept").isTrue();
        MemberState c6 = data("node-c", 100, NodeRole.PRIMARY, 6, 6, 10);
        assertThat(Election.yields(c6, a6)).as("same term and priority: name").isTrue();
        assertThat(Election.primary(List.of(a5, b6)).orElseThrow().name()).isEqualTo("node-b");
    }

    @Test
    void votersGrantOncePerTermAndOnlyToUpToDateCandidates() {
        MemberState me = data("node-a", 100, NodeRole.SECONDARY, 4, 4, 100);
        MemberState b = data("node-b", 100, NodeRole.SECONDARY, 4, 4, 100);
        assertThat(Election.vote(4, "node-c", me, 4, b).reason()).isEqualTo("already voted for node-c in term 4");
        assertThat(Election.vote(4, "node-b", me, 4, b).granted()).as("the same candidate asking again").isTrue();
        assertThat(Election.vote(4, null, me, 4, b).granted())
                .as("term 4 only seen (the candidate's status arrived before its request): the vote is still free").isTrue();
        assertThat(Election.vote(5, null, me, 4, b).reason()).isEqualTo("term 4 is older than term 5 already recorded");
        assertThat(Election.vote(4, "node-a", me, 5, data("node-b", 100, NodeRole.SECONDARY, 4, 4, 99)).reason())
                .isEqualTo("node-b has older data (term 4, lsn 99) than node-a (term 4, lsn 100)");
        assertThat(Election.vote(4, "node-a", me, 5, b).granted()).isTrue();
        assertThat(Election.vote(4, null, witness(4), 5, data("node-b", 100, NodeRole.SECONDARY, 4, 1, 1)).granted())
                .as("a witness has no data to compare").isTrue();
    }

    @Test
    void leaseNeedsAMajorityOfRecentAcknowledgements() {
        long none = Long.MIN_VALUE;
        assertThat(Lease.validUntil(1000, new long[] {900, none}, 2, 200)).isEqualTo(1100);
        assertThat(Lease.validUntil(1000, new long[] {none, none}, 2, 200)).isEqualTo(Long.MIN_VALUE);
        assertThat(Lease.validUntil(1000, new long[] {950, 800}, 2, 200)).isEqualTo(1150);
        assertThat(Lease.validUntil(1000, new long[] {}, 1, 200)).as("a group of one").isEqualTo(1200);
        assertThat(Election.votesNeeded(3, true)).isEqualTo(2);
        assertThat(Election.votesNeeded(2, true)).isEqualTo(2);
        assertThat(Election.votesNeeded(2, false)).isEqualTo(1);
    }

    @Test
    void timingRulesAddUpToTheFailureTimeout() {
        var hb = java.time.Duration.ofMillis(100);
        var ft = java.time.Duration.ofSeconds(1);
        assertThat(TimingRules.heartbeatTimeout(hb, ft).plus(TimingRules.verifyTimeout(hb))).isEqualTo(ft);
        assertThat(TimingRules.worstCaseFailover(hb, ft)).isEqualTo(java.time.Duration.ofMillis(1200));
    }
}
