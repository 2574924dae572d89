package dev.tandem.cluster;

/** This node may not acknowledge writes now; the message says why (and who the primary is, when known). */
public final class NotWritableException extends RuntimeException {
    public NotWritableException(String message) {
        super(message, null, false, false);
    }
}
