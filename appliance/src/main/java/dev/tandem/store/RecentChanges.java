package dev.tandem.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The newest committed changes, exactly as written to the change log, so that replication can ship a
 * change right after its commit without reading it back from H2. Bounded by count and by characters;
 * it only ever holds a contiguous run of LSNs ending at the store's last one, and answers only when it
 * holds every change asked for (otherwise the caller reads the log).
 */
final class RecentChanges {
    private final int maxChanges;
    private final long maxChars;
    private final ArrayDeque<Change> changes = new ArrayDeque<>();
    private long chars;

    RecentChanges(int maxChanges, long maxChars) {
        this.maxChanges = maxChanges;
        this.maxChars = maxChars;
    }

    /** Appends a committed change; one that does not directly follow the newest held starts the run afresh. */
    synchronized void add(Change c) {
        if (!changes.isEmpty() && c.lsn() != changes.peekLast().lsn() + 1) clear();
        changes.addLast(c);
        chars += c.ops().length();
        while (changes.size() > maxChanges || (chars > maxChars && changes.size() > 1)) {
            chars -= changes.removeFirst().ops().length();
        }
        if (chars > maxChars) clear(); // one change larger than the whole budget: read it from the log
    }

    /** Forgets everything (the log was replaced, e.g. by a snapshot). */
    synchronized void clear() {
        changes.clear();
        chars = 0;
    }

    /**
     * The changes with LSN greater than {@code afterLsn}, in order, at most {@code limit}; or null when
     * this does not hold the change right after {@code afterLsn} (too old, or not committed yet).
     */
    synchronized List<Change> after(long afterLsn, int limit) {
        if (changes.isEmpty() || limit <= 0) return null;
        long first = changes.peekFirst().lsn(), last = changes.peekLast().lsn();
        if (afterLsn + 1 < first || afterLsn + 1 > last) return null;
        List<Change> out = new ArrayList<>((int) Math.min(limit, last - afterLsn));
        Iterator<Change> it = changes.iterator();
        for (long skip = afterLsn + 1 - first; skip > 0; skip--) it.next();
        while (it.hasNext() && out.size() < limit) out.add(it.next());
        return out;
    }
}
