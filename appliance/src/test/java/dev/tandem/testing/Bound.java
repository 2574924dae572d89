package dev.tandem.testing;

import java.time.Duration;

/**
 * How long a test waits for something the appliance promises: the promise (SPEC section 8, as written,
 * for the benchmark machine) and, apart from it, the slack a loaded CI machine may need on top. A test
 * fails only past both ({@link #deadline}); past the promise alone it says so on stderr
 * ({@link #report}), so misses are seen without making the suite flaky. The benchmarks
 * ({@code bin/tandem-bench}) are what measure the promise. {@code -Dtandem.ci.slack=PT0S} makes tests
 * hold the promise itself.
 */
public record Bound(String promise, Duration promised, Duration slack) {
    /** What a shared CI machine may add: JIT, GC, two test JVMs and three nodes on two cores. */
    public static final Duration CI_SLACK = Duration.parse(System.getProperty("tandem.ci.slack", "PT60S"));

    /** SPEC 8: kill -9 of the primary to the survivor acknowledging writes, p99. */
    public static Bound failover() {
        return new Bound("SPEC 8: kill -9 to the survivor serving as primary, p99", Duration.ofMillis(500), CI_SLACK);
    }

    /** SPEC 8: a frozen (SIGSTOP) primary to the survivor serving as primary: failure_timeout + 500 ms. */
    public static Bound freeze(Duration failureTimeout) {
        return new Bound("SPEC 8: SIGSTOP to the survivor serving as primary (failure_timeout + 500 ms)", failureTimeout.plusMillis(500), CI_SLACK);
    }

    /** SPEC 8: a planned switchover, writes unavailable for at most 300 ms (here: request to the new primary serving). */
    public static Bound switchover() {
        return new Bound("SPEC 8: planned switchover", Duration.ofMillis(300), CI_SLACK);
    }

    /** Something with no figure behind it (a rejoin, a catch-up, a view): only the CI deadline. */
    public static Bound soon() {
        return new Bound("", Duration.ZERO, CI_SLACK);
    }

    public Duration deadline() {
        return promised.plus(slack);
    }

    /** Says on stderr when {@code took} missed the promise (inside the slack, or the test would have failed). */
    public void report(String what, Duration took) {
        if (!promise.isEmpty() && took.compareTo(promised) > 0) {
            System.err.println("[promise] " + what + ": " + took.toMillis() + " ms; " + promise + " is " + promised.toMillis()
                    + " ms (missed inside the CI slack of " + slack.toSeconds() + " s)");
        }
    }
}
