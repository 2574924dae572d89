package dev.tandem.http;

/** This node may not acknowledge the write now (not primary, or strict replication without a secondary). Answered 503. */
public final class WriteRefusedException extends RuntimeException {
    public WriteRefusedException(String message) {
        super(message, null, false, false);
    }
}
