package dev.tandem.core;

import dev.tandem.core.GroupMessage.Vote;
import java.util.List;

/** What goes into {@link GroupState#step}. */
public sealed interface GroupInput {
    /** Every heartbeat interval. */
    record Tick() implements GroupInput {}

    /** A new view; {@code coordinator} is whether this node coordinates it (it decides elections). */
    record ViewChanged(List<String> members, boolean coordinator, String coordinatorName) implements GroupInput {}

    /** A group message from another member. */
    record Received(GroupMessage message) implements GroupInput {}

    /** The operator asks for a switchover ({@code target} null: the best secondary); answered by {@link GroupEffect.SwitchoverFinished}. */
    record SwitchoverRequested(String target, String id) implements GroupInput {}

    /** The operator turns maintenance on or off, group-wide. */
    record MaintenanceSet(boolean enabled) implements GroupInput {}

    /** The commits in flight when {@link GroupEffect.DrainCommits} was asked for have finished: the last LSN is final. */
    record CommitsDrained() implements GroupInput {}

    /** The time of a vote held back by {@link GroupEffect.Later} has come. */
    record VoteDue(String candidate, Vote vote) implements GroupInput {}

    /** The node is stopping: a primary resigns so that the group need not wait out its lease. */
    record Closing() implements GroupInput {}
}
