package dev.tandem.store;

/** A commit refused because this node may not write now (not primary, or handing over). Nothing was committed. */
public final class WriteRefusedException extends RuntimeException {
    public WriteRefusedException(String message) {
        super(message, null, false, false);
    }
}
