package dev.tandem.core;

import dev.tandem.api.NodeRole;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

/**
 * Thousands of seeded random histories of a pair + witness (partitions, crashes, restarts, writes,
 * elections, switch of preempt and maintenance), driven only by the core's pure functions the way the
 * cluster layer drives them. Invariants: never two primaries in one term (majority quorum); terms
 * only grow on every node; priority 0 is never promoted automatically; a hand-over happens only with
 * preempt on.
 */
class ElectionSimulationTest {
    static final class Node {
        final String name;
        final boolean witness;
        final int priority;
        long term;         // durable
        String votedFor;   // durable: whom it voted for in term, or null
        long lastTerm, lsn; // durable data
        NodeRole role;
        boolean alive = true;

        Node(String name, boolean witness, int priority) {
            this.name = name;
            this.witness = witness;
            this.priority = priority;
            this.role = witness ? NodeRole.WITNESS : NodeRole.NOT_IN_GROUP;
        }

        MemberState state() {
            return new MemberState(name, witness, priority, role, term, lastTerm, lsn);
        }
    }

    @RepeatedTest(40)
    void invariantsHoldOverRandomHistories(RepetitionInfo info) {
        int elections = 0;
        for (int run = 0; run < 100; run++) {
            elections += simulate(new Random(info.getCurrentRepetition() * 1000L + run));
        }
        assertThat(elections).as("the histories really elect primaries").isGreaterThan(100);
    }

    int simulate(Random rnd) {
        int elections = 0;
        List<Node> nodes = List.of(new Node("node-a", false, rnd.nextInt(3) * 100), new Node("node-b", false, 100 + rnd.nextInt(2) * 50),
                new Node("witness", true, 0));
        boolean preempt = rnd.nextBoolean();
        boolean maintenance = false;
        Map<Long, String> primaryOfTerm = new HashMap<>();
        int[] side = new int[3]; // partition: nodes with the same number see each other
        for (int step = 0; step < 60; step++) {
            Map<String, Long> termsBefore = new HashMap<>();
            nodes.forEach(n -> termsBefore.put(n.name, n.term));
            switch (rnd.nextInt(7)) {
                case 0 -> { for (int i = 0; i < 3; i++) side[i] = rnd.nextInt(2); } // new partition
                case 1 -> { for (int i = 0; i < 3; i++) side[i] = 0; } // heal
                case 2 -> { Node n = nodes.get(rnd.nextInt(3)); n.alive = !n.alive; if (!n.witness) n.role = NodeRole.NOT_IN_GROUP; }
                case 3 -> { // the primary writes (only while it is primary)
                    for (Node n : nodes) if (n.alive && n.role == NodeRole.PRIMARY) { n.lsn++; n.lastTerm = n.term; }
                }
                case 4 -> maintenance = rnd.nextInt(4) == 0;
                default -> { }
            }
            // replication (sync-ish): a secondary in the primary's partition copies its data
            for (Node p : nodes) {
                if (!p.alive || p.role != NodeRole.PRIMARY) continue;
                for (Node s : nodes) {
                    if (s != p && s.alive && !s.witness && side[nodes.indexOf(s)] == side[nodes.indexOf(p)] && s.term <= p.term) {
                        s.lastTerm = p.lastTerm;
                        s.lsn = p.lsn;
                        if (p.term > s.term) s.votedFor = null;
                        s.term = p.term;
                        s.role = NodeRole.SECONDARY;
                    }
                }
            }
            // each partition: step down without quorum, then its coordinator decides
            for (int part = 0; part < 2; part++) {
                List<Node> members = new ArrayList<>();
                for (int i = 0; i < 3; i++) if (side[i] == part && nodes.get(i).alive) members.add(nodes.get(i));
                if (members.isEmpty()) continue;
                GroupView view = new GroupView(members.get(0).name, members.stream().map(Node::state).toList(), 3, true, preempt, maintenance);
                if (!view.hasQuorum()) {
                    members.stream().filter(n -> !n.witness).forEach(n -> n.role = NodeRole.NOT_IN_GROUP);
                    continue;
                }
                Decision d = Election.decide(view);
                if (d.action() == Decision.Action.NONE) continue;
                assertThat(d.action() != Decision.Action.HAND_OVER || preempt).as("hand-over only with preempt").isTrue();
                Node cand = members.stream().filter(n -> n.name.equals(d.candidate())).findFirst().orElseThrow();
                assertThat(cand.priority).as("priority 0 is never promoted automatically").isPositive();
                int votes = 0;
                for (Node v : members) {
                    Election.Vote vote = Election.vote(v.term, v.votedFor, v.state(), d.term(), cand.state());
                    if (d.term() > v.term) {
                        v.term = d.term(); // recorded durably before answering
                        v.votedFor = null;
                        if (v.role == NodeRole.PRIMARY) v.role = NodeRole.SECONDARY;
                    }
                    if (vote.granted()) {
                        v.votedFor = cand.name;
                        votes++;
                    }
                }
                if (votes >= Election.votesNeeded(3, true)) {
                    String earlier = primaryOfTerm.putIfAbsent(d.term(), cand.name);
                    assertThat(earlier).as("two primaries in term %d", d.term()).isNull();
                    for (Node n : nodes) if (n.role == NodeRole.PRIMARY && n != cand && n.alive && side[nodes.indexOf(n)] == part) n.role = NodeRole.SECONDARY;
                    cand.role = NodeRole.PRIMARY;
                    elections++;
                }
            }
            for (Node n : nodes) {
                assertThat(n.term).as("terms only grow on %s", n.name).isGreaterThanOrEqualTo(termsBefore.get(n.name));
            }
        }
        return elections;
    }
}
