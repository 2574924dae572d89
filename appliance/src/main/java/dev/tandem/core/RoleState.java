package dev.tandem.core;

import dev.tandem.api.NodeRole;
/**
 * What the rest of the node reads of the group protocol (the store's write gate, replication, HTTP, health):
 * one immutable record, published whole by the driver, so a reader never sees a role with another role's lease.
 */
public record RoleState(NodeRole role, long term, String primary, String primaryHttp, long leaseUntil, boolean handingOver, long handedOverLsn) {
    /** Primary of the newest term, holding its lease, not handing over: it may acknowledge writes at {@code now}. */
    public boolean mayAcknowledge(long now) {
        return role == NodeRole.PRIMARY && !handingOver && now < leaseUntil;
    }

    /** Primary and not handing over: it may commit writes (acknowledged only under {@link #mayAcknowledge}). */
    public boolean mayWrite() {
        return role == NodeRole.PRIMARY && !handingOver;
    }
}
