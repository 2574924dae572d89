package dev.tandem.core;

import java.util.List;

/**
 * Everything the election needs, as values: the members in this node's current view with their
 * last known states (this node included), members heard from recently but not (yet) in the view
 * ({@code reachable}: a healed partition before the views merge), the configured voter count and rules.
 */
public record GroupView(String self, List<MemberState> members, List<MemberState> reachable, int voters, boolean majorityQuorum,
                        boolean preempt, boolean maintenance) {

    public GroupView(String self, List<MemberState> members, int voters, boolean majorityQuorum, boolean preempt, boolean maintenance) {
        this(self, members, List.of(), voters, majorityQuorum, preempt, maintenance);
    }

    public int votersVisible() {
        return members.size(); // every member of the view is a voter (data nodes and witnesses)
    }

    public int majority() {
        return voters / 2 + 1;
    }

    public boolean hasQuorum() {
        return !majorityQuorum || votersVisible() >= majority();
    }

    public long maxTerm() {
        return members.stream().mapToLong(MemberState::term).max().orElse(0);
    }

    public MemberState member(String name) {
        return members.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
    }
}
