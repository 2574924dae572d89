package dev.tandem.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The highest term this node has seen or voted in, and whom it voted for in that term, kept in
 * {@code data_dir/term} ("8" or "8 node-b") and fsynced before the node acts on it (answers a vote,
 * accepts a primary, becomes primary). Terms only grow; a node votes at most once per term.
 */
public final class TermFile {
    private final Path file;
    private long term;
    private String votedFor;

    public TermFile(Path dataDir) {
        this.file = dataDir.resolve("term");
        try {
            String t = DurableFile.read(file);
            String[] parts = t == null ? new String[0] : t.strip().split("\\s+");
            this.term = parts.length == 0 ? 0 : Long.parseLong(parts[0]);
            this.votedFor = parts.length > 1 ? parts[1] : null;
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException(file + " cannot be read (" + e.getMessage() + "); it holds this node's term. "
                    + "Restore it, or remove it only if this node's data is also discarded", e);
        }
    }

    public synchronized long get() {
        return term;
    }

    /** Whom this node voted for in {@link #get()}, or null. */
    public synchronized String votedFor() {
        return votedFor;
    }

    /** Records {@code t} (seen, not voted in) durably if it is higher; returns whether it was. */
    public synchronized boolean raise(long t) {
        if (t <= term) return false;
        write(t, null);
        return true;
    }

    /**
     * Records a vote for {@code candidate} in term {@code t} durably, unless this node is past {@code t} or
     * already voted for someone else in it; returns whether the vote stands.
     */
    public synchronized boolean vote(long t, String candidate) {
        if (t < term || (t == term && votedFor != null && !votedFor.equals(candidate))) return false;
        if (t == term && candidate.equals(votedFor)) return true;
        write(t, candidate);
        return true;
    }

    private void write(long t, String candidate) {
        try {
            DurableFile.write(file, candidate == null ? Long.toString(t) : t + " " + candidate);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record term " + t + " in " + file, e);
        }
        term = t;
        votedFor = candidate;
    }
}
