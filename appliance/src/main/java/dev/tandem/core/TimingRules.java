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

    /** VERIFY_SUSPECT2's confirmation wait: two heartbeats, at least 100 ms. */
    public static Duration verifyTimeout(Duration heartbeat) {
        Duration two = heartbeat.multipliedBy(2);
        return two.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : two;
    }

    /** FD_ALL3's timeout: the part of failure_timeout left after verification, so the two add up to failure_timeout. */
    public static Duration heartbeatTimeout(Duration heartbeat, Duration failureTimeout) {
        Duration t = failureTimeout.minus(verifyTimeout(heartbeat));
        return t.compareTo(heartbeat.multipliedBy(2)) < 0 ? heartbeat.multipliedBy(2) : t;
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
