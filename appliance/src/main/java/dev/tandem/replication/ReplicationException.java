package dev.tandem.replication;

/** A write that replication cannot confirm (strict mode without a secondary, or the node lost the primary role). */
public final class ReplicationException extends RuntimeException {
    public ReplicationException(String message) {
        super(message, null, false, false);
    }
}
