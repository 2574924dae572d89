package dev.tandem.core;

/**
 * The one answer a node gives when a write may not be acknowledged: why, as a {@link Reason} code and a
 * sentence an operator can act on. Thrown before a commit (nothing was written) or after one that cannot be
 * confirmed ({@link #committed()}: the change is in this node's store but was never acknowledged, so the
 * client must treat it as not done). HTTP answers it with 503 and Retry-After.
 */
public final class WriteRefused extends RuntimeException {
    public enum Reason {
        /** This node is not the primary (or no primary is known yet: a failover is on). */
        NOT_PRIMARY,
        /** This node is handing the primary role over (switchover): writes pause until the new primary takes them. */
        HANDING_OVER,
        /** The primary cannot reach a majority to confirm it still is one (its lease ran out). */
        NO_LEASE,
        /** replication.strict and no secondary confirmed the write in time. */
        STRICT_WITHOUT_SECONDARY,
        /** This node lost the primary role while the write waited for its secondary. */
        LOST_ROLE,
        /** The write could not be made durable here (the store's sync failed). */
        NOT_DURABLE
    }

    private final Reason reason;
    private final boolean committed;

    public WriteRefused(Reason reason, String message) {
        this(reason, message, false);
    }

    private WriteRefused(Reason reason, String message, boolean committed) {
        super(message, null, false, false);
        this.reason = reason;
        this.committed = committed;
    }

    /** The same refusal, for a write that was committed here (at {@code lsn}) before it could be confirmed. */
    public WriteRefused afterCommit(long lsn) {
        return new WriteRefused(reason, "the write (lsn " + lsn + ") was committed here but cannot be confirmed: " + getMessage(), true);
    }

    public Reason reason() {
        return reason;
    }

    /** True when the change is in this node's store (not acknowledged); false when nothing was written. */
    public boolean committed() {
        return committed;
    }
}
