package dev.tandem.core;

import dev.tandem.api.NodeRole;
import dev.tandem.core.GroupMessage.Nominate;
import dev.tandem.core.GroupMessage.RequestVote;
import dev.tandem.core.GroupMessage.Switchover;
import dev.tandem.core.GroupMessage.Vote;
import dev.tandem.core.GroupState.Peer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Elections, from every side: the coordinator's decision (whom to nominate), the candidate's (ask for votes,
 * win), the voter's (one vote per term, recorded before it is sent), and the lease promise that holds a vote or
 * a candidacy back until the lease this node last granted another primary has run out. Part of {@link GroupState};
 * runs inside its step.
 */
final class Elections {
    private record Candidacy(long term, long deadline, long since, Set<String> grants) {}

    private final GroupState g;
    private final GroupState.Settings s;
    private final String me;

    /** Exists only while this node stands for a term. */
    private Candidacy candidacy;
    private long nominationInFlightUntil = Long.MIN_VALUE;
    /** The lease promise: when this node last acknowledged (or voted for) a primary, and which. */
    private long lastPrimaryAckAt = Long.MIN_VALUE;
    private String lastPrimaryAcked;
    private long primaryLostAt = Long.MIN_VALUE;

    Elections(GroupState g) {
        this.g = g;
        this.s = g.s;
        this.me = g.me;
    }

    /** A candidacy that did not win within the failure timeout is given up. */
    void lapse() {
        if (candidacy != null && g.now > candidacy.deadline()) {
            g.log("candidacy for term " + candidacy.term() + " lapsed: " + candidacy.grants().size() + " of "
                    + Election.votesNeeded(s.voters(), s.majority()) + " votes");
            candidacy = null;
        }
    }

    void primaryLost() {
        primaryLostAt = g.now;
    }

    void resigned(String from) {
        if (from.equals(lastPrimaryAcked)) lastPrimaryAckAt = Long.MIN_VALUE;
    }

    /** The view's coordinator decides (and nominates); the others say what they follow. */
    void decide() {
        Membership group = g.membership;
        long now = g.now;
        if (!group.connected) {
            g.lastDecision = "not connected to the group yet";
            return;
        }
        if (!group.coordinator) {
            // the view's coordinator decides; the others say what they follow, so every node's last decision reads plainly
            String coord = String.valueOf(group.coordinatorName);
            String primary = g.primary;
            String decision = primary != null
                    ? "no action: " + primary + " is primary of term " + g.term()
                            + (primary.equals(me) ? "" : "; " + me + " is " + g.role.name().toLowerCase(Locale.ROOT).replace('_', ' '))
                            + " (" + coord + " coordinates the group's decisions)"
                    : "no primary yet: waiting for " + coord + ", the group's coordinator, to decide";
            if (g.maintenance()) decision += "; maintenance: automatic failover paused";
            g.lastDecision = decision;
            return;
        }
        List<MemberState> members = new ArrayList<>();
        members.add(g.self());
        for (String n : group.view) {
            if (n.equals(me)) continue;
            Peer p = group.peers.get(n);
            if (p == null || p.receivedAt() < group.viewSince || p.state().term() < g.recordedTerm()) {
                // it may hold newer data, or be primary: decide only on what every member says now. A status of an
                // older term is stale: it may have sat in a socket buffer while this node was frozen.
                g.lastDecision = "waiting for a current status of " + n;
                return;
            }
            members.add(p.state());
        }
        if (candidacy != null || g.switchovers.active()) return;
        if (!s.majority() && s.voters() > 1 && !group.seenOthers) {
            long wait = TimingRules.loneStartWait(Duration.ofMillis(s.heartbeatMs()), Duration.ofMillis(s.failureTimeoutMs())).toMillis();
            if (now < group.connectedAt + wait) {
                String d = "no action: quorum none and no other member seen since this node started; waiting up to " + wait
                        + " ms for one before electing alone (a peer missed at the join may be primary with newer writes)";
                if (!d.equals(g.lastDecision)) g.log("decision: " + d);
                g.lastDecision = d;
                return;
            }
        }
        long heardSince = now - s.failureTimeoutMs();
        List<MemberState> reachable = group.peers.values().stream()
                .filter(p -> !group.view.contains(p.state().name()) && p.receivedAt() > heardSince).map(Peer::state).toList();
        Decision d = Election.decide(new GroupView(me, members, reachable, s.voters(), s.majority(), s.preempt(), g.maintenance()));
        if (!d.toString().equals(g.lastDecision)) {
            g.log("decision: " + d);
            g.lastDecision = d.toString();
        }
        if (d.action() == Decision.Action.NONE || now < nominationInFlightUntil) return;
        nominationInFlightUntil = now + s.failureTimeoutMs();
        if (d.action() == Decision.Action.ELECT) {
            g.send(d.candidate(), new Nominate(me, d.term(), d.reason()));
        } else if (g.primary != null) {
            g.send(g.primary, new Switchover(me, d.candidate(), "preempt-" + d.term()));
        }
    }

    /**
     * With {@code quorum: none} a node is elected by its own vote, so two nodes cut apart (or one that restarts
     * before it finds the other) could each take the same term. Their changes of that term would then look like
     * one history (replication matches histories by term and LSN), and one side's would be dropped instead of
     * preserved as divergent. So without quorum a candidate stands only in a term of its own: the first at or
     * after {@code t} that leaves {@code slot} as remainder when divided by the number of members. With a
     * majority quorum, one vote per term already keeps terms apart, and {@code t} stands.
     */
    long ownTerm(long t) {
        if (s.majority() || s.slot() < 0 || s.voters() < 2) return t;
        long r = Math.floorMod(t, (long) s.voters());
        return t + Math.floorMod(s.slot() - r, (long) s.voters());
    }

    void onNominate(Nominate m) {
        long now = g.now;
        long t = ownTerm(m.term());
        if (s.witness() || g.role == NodeRole.PRIMARY || (candidacy != null && t == candidacy.term()) || g.switchovers.active()) return; // not while handing over
        // our own vote keeps the lease promise too: no candidacy until the lease after this node's last acknowledgement
        // of another primary has run out (unless that primary itself nominated this node: it stopped acknowledging first)
        long wait = lastPrimaryAckAt == Long.MIN_VALUE || me.equals(lastPrimaryAcked) || m.from().equals(lastPrimaryAcked)
                ? 0 : lastPrimaryAckAt + s.leaseMs() - now;
        if (wait > 0 && t > g.recordedTerm()) {
            g.log("candidacy for term " + t + " in " + wait + " ms, when the lease of " + lastPrimaryAcked + " has run out");
            g.emit(new GroupEffect.Later(wait, new GroupInput.Received(m)));
            return;
        }
        if (!g.vote(t, me)) return; // our own vote, recorded before asking for others' (not if we voted for another in t)
        Set<String> grants = new HashSet<>();
        grants.add(me);
        candidacy = new Candidacy(t, now + s.failureTimeoutMs(), primaryLostAt != Long.MIN_VALUE ? primaryLostAt : now, grants);
        g.lastDecision = "candidate for term " + t + ": " + (m.reason() != null ? m.reason() : "nominated by " + m.from());
        g.log("candidate for term " + t + " (nominated by " + m.from() + "), asking for votes");
        MemberState self = g.self();
        g.broadcast(new RequestVote(me, t, self.priority(), self.lastTerm(), self.lsn(), now));
        maybeWin();
    }

    void onRequestVote(RequestVote m) {
        long t = m.term();
        String cand = m.candidate();
        MemberState candState = new MemberState(cand, false, m.priority(), NodeRole.NOT_IN_GROUP, t, m.lastTerm(), m.lsn());
        long myTerm = g.recordedTerm();
        Election.Vote v = Election.vote(myTerm, g.votedFor(), g.self(), t, candState);
        // a granted vote is recorded (with its term: one fsync) before it is sent; a refusal still records the newer term
        if (v.granted() && !g.vote(t, cand)) v = new Election.Vote(false, "already voted in term " + t);
        if (t > myTerm) g.observeHigherTerm(t, cand);
        Vote reply = new Vote(me, t, v.granted(), v.reason(), m.sentAt());
        // lease: no vote for another primary until our last acknowledgement of the old one has run out
        long wait = cand.equals(lastPrimaryAcked) || lastPrimaryAckAt == Long.MIN_VALUE ? 0 : lastPrimaryAckAt + s.leaseMs() - g.now;
        if (v.granted() && wait > 0) {
            g.log("vote for " + cand + " in term " + t + " granted; sent in " + wait + " ms, when the lease of " + lastPrimaryAcked + " has run out");
            promiseLease(cand);
            g.emit(new GroupEffect.Later(wait, new GroupInput.VoteDue(cand, reply)));
        } else {
            if (v.granted()) promiseLease(cand);
            g.send(cand, reply);
        }
        if (!v.granted()) g.log("vote for " + cand + " in term " + t + " refused: " + v.reason());
    }

    /** A vote held back by the lease promise is due. */
    void voteDue(GroupInput.VoteDue v) {
        // meanwhile this node may have moved to a newer term (voted in it): a vote for an older term
        // would only make a primary that the newer one has to depose
        if (g.recordedTerm() != v.vote().term()) {
            g.log("vote for " + v.candidate() + " in term " + v.vote().term() + " not sent: this node is in term " + g.recordedTerm() + " now");
        } else {
            promiseLease(v.candidate());
            g.send(v.candidate(), v.vote());
        }
    }

    /**
     * Acknowledging a primary's status is a promise: this node votes for no other candidate until a lease after
     * it has run out. A granted vote is an acknowledgement too: the candidate's lease counts from its request.
     */
    void promiseLease(String primary) {
        lastPrimaryAcked = primary;
        lastPrimaryAckAt = g.now;
    }

    void onVote(Vote m) {
        if (candidacy == null || m.term() != candidacy.term()) return;
        if (m.granted()) {
            candidacy.grants().add(m.from());
            g.membership.acknowledged(m.from(), m.sentAt());
            maybeWin();
        }
    }

    private void maybeWin() {
        int needed = Election.votesNeeded(s.voters(), s.majority());
        if (candidacy == null || candidacy.grants().size() < needed) return;
        Candidacy c = candidacy;
        long t = c.term();
        long now = g.now;
        candidacy = null;
        g.roleTerm = t;
        g.emit(new GroupEffect.BecomingPrimary(t));
        g.membership.keepAcknowledgementsOf(c.grants());
        g.changeRole(NodeRole.PRIMARY, t, "elected in term " + t + " with the votes of " + new TreeSet<>(c.grants()) + " (" + needed + " needed)",
                now - c.since());
        g.membership.renewLease();
        g.setPrimary(me, g.httpUrl());
        primaryLostAt = Long.MIN_VALUE;
        g.handedOverLsn = 0; // its own writes from now on are acknowledged under its own lease only
        g.switchovers.electedAgain(t);
        g.broadcast(g.statusMessage(now, g.data));
    }
}
