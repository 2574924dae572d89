package dev.tandem.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The highest term this node has seen or voted in, kept in {@code data_dir/term} and fsynced before
 * the node acts on it (answers a vote, accepts a primary, becomes primary). Terms only grow.
 */
public final class TermFile {
    private final Path file;
    private long term;

    public TermFile(Path dataDir) {
        this.file = dataDir.resolve("term");
        try {
            String t = DurableFile.read(file);
            this.term = t == null ? 0 : Long.parseLong(t);
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException(file + " cannot be read (" + e.getMessage() + "); it holds this node's term. "
                    + "Restore it, or remove it only if this node's data is also discarded", e);
        }
    }

    public synchronized long get() {
        return term;
    }

    /** Records {@code t} durably if it is higher; returns whether it was. */
    public synchronized boolean raise(long t) {
        if (t <= term) return false;
        try {
            DurableFile.write(file, Long.toString(t));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record term " + t + " in " + file, e);
        }
        term = t;
        return true;
    }
}
