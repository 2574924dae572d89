package dev.tandem.core;

import java.time.Duration;

/**
 * How failure detection timings derive from {@code group.heartbeat_interval} and
 * {@code group.failure_timeout}, and what failover time they imply. Pure arithmetic: no clock.
 */
public final class TimingRules {
    /** Time the new primary needs after the failure is confirmed: view install, term write, open for writes. */
    public static final Duration PROMOTION_BUDGET = Duration.ofMillis(100);

    private TimingRules() {}

    /**
     * VERIFY_SUSPECT2's confirmation wait: half a heartbeat, at least 50 ms. It sits on the path of every
     * failover (a killed process is suspected at once, then verified), so it is kept short. VERIFY_SUSPECT2
     * checks its suspects on a timer of the same period, so a suspect is confirmed after one to two of
     * these (measured: 100 ms gave 100-200 ms between "connection closed" and the new view).
     */
    public static Duration verifyTimeout(Duration heartbeat) {
        Duration half = heartbeat.dividedBy(2);
        return half.compareTo(Duration.ofMillis(50)) < 0 ? Duration.ofMillis(50) : half;
    }

    /**
     * The primary's lease: two heartbeats, so one late heartbeat does not interrupt writes (a second
     * voter's acknowledgement renews it too). Voters wait this long after their last acknowledgement
     * before voting for another primary, so it bounds how soon a killed primary can be replaced: the
     * wait left when the failure is confirmed is one to two heartbeats.
     */
    public static Duration lease(Duration heartbeat) {
        return heartbeat.multipliedBy(2);
    }

    /** FD_ALL3's timeout: the part of failure_timeout left after verification, so the two add up to failure_timeout. */
    public static Duration heartbeatTimeout(Duration heartbeat, Duration failureTimeout) {
        Duration t = failureTimeout.minus(verifyTimeout(heartbeat));
        return t.compareTo(heartbeat.multipliedBy(2)) < 0 ? heartbeat.multipliedBy(2) : t;
    }

    /** MERGE3's longest interval between merge checks: how long two members that missed each other may stay apart. */
    public static Duration mergeMaxInterval(Duration heartbeat) {
        Duration t = heartbeat.multipliedBy(15);
        return t.compareTo(Duration.ofMillis(1500)) < 0 ? Duration.ofMillis(1500) : t;
    }

    /** MERGE3's shortest interval between merge checks. */
    public static Duration mergeMinInterval(Duration heartbeat) {
        Duration t = heartbeat.multipliedBy(5);
        return t.compareTo(Duration.ofMillis(500)) < 0 ? Duration.ofMillis(500) : t;
    }

    /**
     * With {@code quorum: none}, how long a node that starts and finds no other member waits for one before it
     * elects itself alone: two merge intervals and a failure timeout. A node that restarts while its peer serves
     * may miss the peer at its join (a loaded peer answers discovery late) and see a group of one; electing at once
     * unseats the peer, whose writes since are then only kept as divergent. Like corosync's wait_for_all for two
     * nodes, but bounded: a peer that is really gone costs this much once, at start, not at every failover.
     */
    public static Duration loneStartWait(Duration heartbeat, Duration failureTimeout) {
        return mergeMaxInterval(heartbeat).multipliedBy(2).plus(failureTimeout);
    }

    /**
     * Worst case from a primary that stops answering (frozen, or cut off) to the secondary accepting
     * writes: heartbeat timeout + one check interval + verification + promotion. A killed process is
     * usually seen much sooner (its sockets close).
     */
    public static Duration worstCaseFailover(Duration heartbeat, Duration failureTimeout) {
        return heartbeatTimeout(heartbeat, failureTimeout).plus(heartbeat).plus(verifyTimeout(heartbeat)).plus(PROMOTION_BUDGET);
    }
}
