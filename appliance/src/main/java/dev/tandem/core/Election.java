package dev.tandem.core;

import dev.tandem.api.NodeRole;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The HA decisions, as pure functions: input in, decision (with a reason) out. No clock, no I/O.
 *
 * <p>Safety rests on {@link #vote}: a voter grants at most one candidate per term (it records the
 * term durably before answering) and only a candidate whose data is at least as recent as its own.
 * A candidate becomes primary with votes from a majority of the configured voters, so with
 * {@code quorum: majority} two primaries can never share a term.
 */
public final class Election {
    private Election() {}

    /** Most recent data first (term, then LSN), then priority (higher first), then name (alphabetical). */
    public static final Comparator<MemberState> PREFERENCE = Comparator.<MemberState, Long>comparing(MemberState::lastTerm)
            .thenComparing(MemberState::lsn).thenComparing(MemberState::priority).reversed()
            .thenComparing(MemberState::name);

    /** Which of several primaries is kept after a healed partition (G5): term, then priority, then name. */
    public static final Comparator<MemberState> PRIMARY_RANK = Comparator.<MemberState, Long>comparing(MemberState::term)
            .thenComparing(MemberState::priority).reversed().thenComparing(MemberState::name);

    /** The data node to promote: eligible (priority above 0) members, by {@link #PREFERENCE}. */
    public static Optional<MemberState> candidate(List<MemberState> members) {
        return members.stream().filter(MemberState::isData).filter(m -> m.priority() > 0).sorted(PREFERENCE).findFirst();
    }

    /** The primary this view recognises: the best-ranked member claiming PRIMARY. */
    public static Optional<MemberState> primary(List<MemberState> members) {
        return members.stream().filter(m -> m.role() == NodeRole.PRIMARY).sorted(PRIMARY_RANK).findFirst();
    }

    /** Run by the view's coordinator on every view change and heartbeat tick. */
    public static Decision decide(GroupView view) {
        MemberState self = view.member(view.self());
        long myTerm = self == null ? view.maxTerm() : self.term();
        for (MemberState r : view.reachable()) {
            if (r.role() == NodeRole.PRIMARY && r.term() >= myTerm) {
                // a healed partition: its primary speaks to us before the views merge; electing now would undo its term
                return Decision.none("primary " + r.name() + " (term " + r.term() + ") is reachable but not yet in the view; waiting for the merge");
            }
        }
        if (!view.hasQuorum()) {
            return Decision.none("no quorum: " + view.votersVisible() + " of " + view.voters() + " voters visible, "
                    + view.majority() + " needed");
        }
        Optional<MemberState> primary = primary(view.members());
        Optional<MemberState> best = candidate(view.members());
        if (primary.isPresent()) {
            MemberState p = primary.get();
            if (view.preempt() && !view.maintenance() && best.isPresent()) {
                MemberState b = best.get();
                if (!b.name().equals(p.name()) && b.priority() > p.priority() && b.compareData(p) >= 0) {
                    return new Decision(Decision.Action.HAND_OVER, b.name(), Math.max(view.maxTerm(), p.term()) + 1,
                            "preempt: " + b.name() + " (priority " + b.priority() + ") has caught up with primary " + p.name()
                                    + " (priority " + p.priority() + ")");
                }
            }
            return Decision.none("primary " + p.name() + " (term " + p.term() + ") is in the view");
        }
        if (view.maintenance()) {
            return Decision.none("maintenance: automatic failover paused; no primary in the view");
        }
        if (best.isEmpty()) {
            String data = view.members().stream().filter(MemberState::isData).map(MemberState::name).collect(Collectors.joining(", "));
            return Decision.none("no eligible data node in the view" + (data.isEmpty() ? "" : " (" + data + " have priority 0)"));
        }
        MemberState b = best.get();
        return new Decision(Decision.Action.ELECT, b.name(), view.maxTerm() + 1,
                "no primary in the view; " + b.name() + " has the most recent data (" + b.dataString() + "), priority "
                        + b.priority());
    }

    /** A voter's answer to "make {@code candidate} primary of {@code term}". */
    public record Vote(boolean granted, String reason) {}

    /**
     * One vote per term, as in Raft: a voter that only saw {@code term} (a status or request of it) may still
     * vote in it; one that voted in it votes again only for the same candidate.
     *
     * @param myTerm     the highest term this voter has durably recorded (seen or voted in)
     * @param votedFor   whom this voter voted for in {@code myTerm}, or null if it has not voted in it
     * @param me         this voter's own state (its data, for data nodes)
     * @param candidate  the candidate's data as carried in the request
     */
    public static Vote vote(long myTerm, String votedFor, MemberState me, long term, MemberState candidate) {
        if (term < myTerm) {
            return new Vote(false, "term " + term + " is older than term " + myTerm + " already recorded");
        }
        if (term == myTerm && votedFor != null && !votedFor.equals(candidate.name())) {
            return new Vote(false, "already voted for " + votedFor + " in term " + term);
        }
        if (me.isData() && !me.name().equals(candidate.name()) && candidate.compareData(me) < 0) {
            return new Vote(false, candidate.name() + " has older data (" + candidate.dataString() + ") than "
                    + me.name() + " (" + me.dataString() + ")");
        }
        return new Vote(true, "granted term " + term + " to " + candidate.name());
    }

    /** Votes a candidate needs: a majority of the configured voters, or just its own with {@code quorum: none}. */
    public static int votesNeeded(int voters, boolean majorityQuorum) {
        return majorityQuorum ? voters / 2 + 1 : 1;
    }

    /** Whether a primary must give up its role on seeing {@code other} also claim PRIMARY (healed partition). */
    public static boolean yields(MemberState me, MemberState other) {
        return other.role() == NodeRole.PRIMARY && PRIMARY_RANK.compare(other, me) < 0;
    }
}
