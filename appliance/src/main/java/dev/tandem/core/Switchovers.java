package dev.tandem.core;

import dev.tandem.api.NodeRole;
import dev.tandem.core.GroupMessage.Nominate;
import dev.tandem.core.GroupMessage.Resign;
import dev.tandem.core.GroupMessage.Switchover;
import dev.tandem.core.GroupMessage.SwitchoverDone;
import dev.tandem.core.GroupState.Peer;
import java.util.ArrayList;
import java.util.List;

/**
 * Planned switchovers: a request is relayed to the primary (or waits, up to a deadline, for one to be known);
 * the primary stops acknowledging writes, lets the commits in flight drain, waits for the target to hold every
 * change, then votes for it, nominates it and steps down. The request's sender is told how it ended. Part of
 * {@link GroupState}; runs inside its step.
 */
final class Switchovers {
    private record Handover(String target, String requestId, String replyTo, long startedAt, long deadline, long startLsn) {}

    private record PendingRequest(Switchover request, long deadline) {}

    private final GroupState g;
    private final GroupState.Settings s;
    private final String me;

    /** Exists only from the start of a handover until the target is primary (or it failed). */
    private Handover handover;
    /** A switchover accepted, between DrainCommits and CommitsDrained. */
    private Switchover starting;
    private final List<PendingRequest> pending = new ArrayList<>();

    Switchovers(GroupState g) {
        this.g = g;
        this.s = g.s;
        this.me = g.me;
    }

    /** While a handover is under way no election starts here. */
    boolean active() {
        return handover != null;
    }

    /** On the primary: start it; elsewhere: relay it to the primary, waiting up to the deadline to learn who that is. */
    void request(Switchover req, long deadline) {
        if (g.role == NodeRole.PRIMARY) {
            onSwitchover(req);
        } else if (g.primary != null) {
            g.send(g.primary, req);
        } else if (g.now < deadline) {
            pending.add(new PendingRequest(req, deadline)); // a node that knows no primary yet waits for one, as writes do (SPEC 5)
        } else {
            g.emit(new GroupEffect.SwitchoverFinished(req.id(), me, false,
                    "no primary in the group to switch over from; wait for one or check `tandem status`", 0));
        }
    }

    void retryPending() {
        if (pending.isEmpty()) return;
        List<PendingRequest> again = new ArrayList<>(pending);
        pending.clear();
        for (PendingRequest p : again) request(p.request(), p.deadline());
    }

    void onSwitchover(Switchover m) {
        String id = m.id();
        String from = m.from();
        if (g.role != NodeRole.PRIMARY) {
            if (g.primary != null && !g.primary.equals(me)) g.send(g.primary, m);
            else reply(from, id, false, "no primary to switch over from", 0);
            return;
        }
        if (handover != null || starting != null) {
            String to = handover != null ? handover.target() : starting.to();
            reply(from, id, false, "a switchover to " + to + " is already in progress", 0);
            return;
        }
        Membership group = g.membership;
        String target = m.to();
        if (target == null) {
            target = Election.candidate(group.peers.values().stream().map(Peer::state).filter(x -> group.view.contains(x.name())).toList())
                    .map(MemberState::name).orElse(null);
        }
        Peer p = target == null ? null : group.peers.get(target);
        // a target in the view but not heard from yet is waited for, like one that is catching up
        if (target == null || !group.view.contains(target) || (p != null && p.state().witness())) {
            reply(from, id, false, target == null ? "no secondary to switch over to" : target + " is not a data node of the group in this node's view", 0);
            return;
        }
        if (target.equals(me)) {
            reply(from, id, true, me + " is already the primary", 0);
            return;
        }
        g.handingOver = true; // stop acknowledging writes; commits in flight finish
        starting = new Switchover(from, target, id);
        g.emit(new GroupEffect.DrainCommits()); // then the last LSN is final: the target must reach it, not one before
    }

    void startHandover() {
        Switchover st = starting;
        starting = null;
        if (st == null) return;
        if (g.role != NodeRole.PRIMARY) { // lost the role while the commits drained
            g.handingOver = false;
            reply(st.from(), st.id(), false, me + " lost the primary role before the switchover began", 0);
            return;
        }
        handover = new Handover(st.to(), st.id(), st.from(), g.now, g.now + s.syncTimeoutMs(), g.data.lastLsn());
        g.log("switchover to " + st.to() + " started: writes paused, waiting for it to reach lsn " + handover.startLsn());
        progress();
    }

    void progress() {
        Handover h = handover;
        if (h == null) return;
        long now = g.now;
        if (g.role != NodeRole.PRIMARY) {
            // we handed over (or lost the role); done when the target shows up as primary
            if (h.target().equals(g.primary)) {
                reply(h.replyTo(), h.requestId(), true, h.target() + " is primary", now - h.startedAt());
                handover = null;
            } else if (now > h.deadline() + s.failureTimeoutMs()) {
                reply(h.replyTo(), h.requestId(), false, h.target() + " did not become primary in time; the group will elect a primary",
                        now - h.startedAt());
                handover = null;
            }
            return;
        }
        Peer p = g.membership.peers.get(h.target());
        if (p != null && p.state().witness()) {
            // a target that was in the view but not heard from when the switchover began turned out to be a witness
            // (it holds no data: with an empty store its LSN would pass the check below)
            g.handingOver = false;
            reply(h.replyTo(), h.requestId(), false, h.target() + " is not a data node of the group; " + me + " stays primary", now - h.startedAt());
            handover = null;
            return;
        }
        long myLsn = g.data.lastLsn();
        // the target has this node's history: as long, and its newest change of the same term (a follower's log, not a
        // longer divergent one of its own)
        if (p != null && p.state().lsn() >= myLsn && (s.witness() || p.state().lastTerm() == g.data.lastTerm())) {
            g.handedOverLsn = myLsn; // commits stopped at the barrier: every write up to here is in the target's history
            long t = Math.max(g.recordedTerm(), g.roleTerm) + 1;
            // this node's own vote in t goes to the target, recorded first: a coordinator that sees no primary for a
            // moment and nominates this node (same data, earlier name) cannot make it a rival candidate in t
            g.vote(t, h.target());
            g.send(h.target(), new Nominate(me, t, "switchover from " + me));
            g.changeRole(NodeRole.SECONDARY, g.roleTerm, "switchover to " + h.target() + " (term " + t + ")", 0);
            g.broadcast(new Resign(me, g.roleTerm));
            g.broadcast(g.statusMessage(now, g.data));
        } else if (now > h.deadline()) {
            g.handingOver = false;
            reply(h.replyTo(), h.requestId(), false, h.target() + " did not catch up (lsn " + (p == null ? "?" : p.state().lsn()) + " of " + myLsn
                    + ") within replication.sync_timeout; " + me + " stays primary", now - h.startedAt());
            handover = null;
        }
    }

    /** Handed over, but the group elected this node again (term {@code t}): that switchover is over. */
    void electedAgain(long t) {
        if (handover == null) return;
        reply(handover.replyTo(), handover.requestId(), false, handover.target() + " did not become primary; the group elected "
                + me + " again (term " + t + ")", g.now - handover.startedAt());
        handover = null;
    }

    private void reply(String to, String id, boolean ok, String message, long tookMs) {
        SwitchoverDone done = new SwitchoverDone(id, ok, message, ok ? (handover != null ? handover.target() : me) : g.primary, tookMs);
        if (to == null || to.equals(me)) g.onMessage(done);
        else g.send(to, done);
    }
}
