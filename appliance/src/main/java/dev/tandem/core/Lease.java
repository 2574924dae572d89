package dev.tandem.core;

import java.util.Arrays;

/**
 * The primary's lease: it may acknowledge writes (and answer /health/primary) only while a majority
 * of voters acknowledged one of its heartbeats recently. Voters promise not to vote for a new primary
 * until the same duration after their last acknowledgement, so leases of two primaries never overlap.
 * Times are monotonic milliseconds passed in.
 */
public final class Lease {
    private Lease() {}

    /**
     * @param ackedSentAt for each other voter, the send time of the newest heartbeat it acknowledged (or
     *                    Long.MIN_VALUE); the primary's own "acknowledgement" is {@code now}
     * @return until when the lease holds
     */
    public static long validUntil(long now, long[] ackedSentAt, int votesNeeded, long duration) {
        long[] all = Arrays.copyOf(ackedSentAt, ackedSentAt.length + 1);
        all[ackedSentAt.length] = now;
        Arrays.sort(all);
        if (votesNeeded > all.length) return Long.MIN_VALUE;
        long kth = all[all.length - votesNeeded]; // the votesNeeded-th most recent acknowledgement
        return kth == Long.MIN_VALUE ? Long.MIN_VALUE : kth + duration;
    }
}
