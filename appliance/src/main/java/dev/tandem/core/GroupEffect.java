package dev.tandem.core;

import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import java.util.Map;

/**
 * What comes out of {@link GroupState#step}, to be carried out in order. Order is the contract: a
 * {@link PersistTerm} comes before the sends that rely on it (a vote is on disk before it is sent), a
 * {@link BecomingPrimary} before the {@link RoleChanged} to PRIMARY.
 */
public sealed interface GroupEffect {
    /** Record term (and the vote in it, or null) durably before carrying out the effects after this one. */
    record PersistTerm(long term, String votedFor) implements GroupEffect {}

    record PersistMaintenance(boolean enabled, long version) implements GroupEffect {}

    /** Send {@code message} to {@code to}; to everyone in the view when {@code to} is null. */
    record Send(String to, GroupMessage message) implements GroupEffect {}

    /** Feed {@code input} back after {@code delayMs}: a vote or a candidacy held until an old primary's lease has run out. */
    record Later(long delayMs, GroupInput input) implements GroupEffect {}

    /** Just before this node acts as primary of {@code term}: its writes will carry that term. */
    record BecomingPrimary(long term) implements GroupEffect {}

    record RoleChanged(NodeRole previous, NodeRole now, long term, String reason, long tookMs) implements GroupEffect {}

    /** For the event log and the hooks: PEER_JOINED, PEER_LOST, MAINTENANCE_CHANGED. */
    record Event(EventId id, Map<String, Object> data) implements GroupEffect {}

    /** A switchover this node asked for has ended. */
    record SwitchoverFinished(String id, String primary, boolean ok, String message, long tookMs) implements GroupEffect {}

    /** Stop acknowledging writes has begun (handing over): wait for the commits in flight, then step {@link GroupInput.CommitsDrained}. */
    record DrainCommits() implements GroupEffect {}

    /** A line for the node's log (decisions, candidacies, votes, role changes). */
    record Log(String line) implements GroupEffect {}
}
