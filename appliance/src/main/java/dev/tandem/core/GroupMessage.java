package dev.tandem.core;

import dev.tandem.api.NodeRole;
/**
 * The messages of the group protocol, as data: what the members of a group tell each other about roles,
 * terms, votes and switchovers (replication has its own). One codec turns them into bytes on the wire
 * ({@code cluster.GroupCodec}); nothing here knows JSON or JGroups.
 *
 * <p>{@code sentAt} fields are the sender's monotonic clock in milliseconds, echoed back unchanged in the
 * answer ({@link Ack}, {@link Vote}) so that the sender can measure from when its own lease counts.
 */
public sealed interface GroupMessage {
    /** Every heartbeat, from every member; a primary's status is its lease heartbeat. */
    record Status(String name, boolean witness, int priority, NodeRole role, long term, long lastTerm, long lsn, String http, String addr,
                  boolean maintenance, long maintenanceVersion, long sentAt) implements GroupMessage {}

    /** A member's answer to a primary's status: the primary's lease counts from {@code sentAt}. */
    record Ack(String from, long term, long sentAt) implements GroupMessage {}

    /** From the coordinator (or a primary handing over) to the member it wants to stand for {@code term}. */
    record Nominate(String from, long term, String reason) implements GroupMessage {}

    /** From a candidate to every member. */
    record RequestVote(String candidate, long term, int priority, long lastTerm, long lsn, long sentAt) implements GroupMessage {}

    /** A member's answer to {@link RequestVote}, with the reason when refused. */
    record Vote(String from, long term, boolean granted, String reason, long sentAt) implements GroupMessage {}

    /** A primary stepping down (switchover, shutdown): members need not wait out its lease. */
    record Resign(String from, long term) implements GroupMessage {}

    /** A switchover request ({@code to} null: the best secondary); {@code from} gets the {@link SwitchoverDone}. */
    record Switchover(String from, String to, String id) implements GroupMessage {}

    /** How a switchover ended, sent to the node that asked for it. */
    record SwitchoverDone(String id, boolean ok, String message, String primary, long tookMs) implements GroupMessage {}

    /** Maintenance on or off, group-wide; the highest {@code version} wins. */
    record Maintenance(String from, boolean enabled, long version) implements GroupMessage {}

    /** The name each message has on the wire. */
    static String typeOf(GroupMessage m) {
        if (m instanceof Status) return "status";
        if (m instanceof Ack) return "ack";
        if (m instanceof Nominate) return "nominate";
        if (m instanceof RequestVote) return "request_vote";
        if (m instanceof Vote) return "vote";
        if (m instanceof Resign) return "resign";
        if (m instanceof Switchover) return "switchover";
        if (m instanceof SwitchoverDone) return "switchover_done";
        return "maintenance";
    }
}
