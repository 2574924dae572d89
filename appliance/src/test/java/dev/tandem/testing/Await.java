package dev.tandem.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one way a test waits: poll a condition until it holds, with a deadline, never a pause as
 * synchronisation. The condition runs at once, then every {@link #POLL}, and once more at the deadline. A
 * RuntimeException from it means "not yet" (a node that is down does not answer): the last one is reported
 * as the cause if the deadline passes. Plain JDK, so the harness of real processes uses it too.
 */
public final class Await {
    public static final Duration POLL = Duration.ofMillis(10);

    private Await() {}

    /** Waits until {@code condition} holds; returns how long that took. */
    public static Duration until(String what, Duration deadline, BooleanSupplier condition) {
        return until(what, deadline, condition, () -> "");
    }

    /** As {@link #until(String, Duration, BooleanSupplier)}; {@code context} is read only at a timeout, for the message. */
    public static Duration until(String what, Duration deadline, BooleanSupplier condition, Supplier<String> context) {
        long t0 = System.nanoTime();
        value(what, deadline, POLL, () -> condition.getAsBoolean(), ok -> ok, context);
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** Polls {@code probe} until {@code accept} takes its value, and returns that value; a timeout shows the last one. */
    public static <T> T value(String what, Duration deadline, Supplier<T> probe, Predicate<? super T> accept) {
        return value(what, deadline, POLL, probe, accept, () -> "");
    }

    public static <T> T value(String what, Duration deadline, Duration poll, Supplier<T> probe, Predicate<? super T> accept,
                              Supplier<String> context) {
        long end = System.nanoTime() + deadline.toNanos();
        T last = null;
        RuntimeException failure = null;
        while (true) {
            boolean finalTry = System.nanoTime() >= end;
            try {
                last = probe.get();
                failure = null;
                if (accept.test(last)) return last;
            } catch (RuntimeException e) {
                failure = e;
            }
            if (finalTry) break;
            sleep(Math.min(poll.toNanos(), Math.max(0, end - System.nanoTime())));
        }
        String ctx;
        try {
            ctx = context.get();
        } catch (RuntimeException e) {
            ctx = "(no more to say: " + e + ")";
        }
        throw new AssertionError("timed out after " + deadline + " waiting for: " + what
                + (failure != null ? "\n  last: " + failure : last != null && !(last instanceof Boolean) ? "\n  last: " + last : "")
                + (ctx == null || ctx.isEmpty() ? "" : "\n  " + ctx), failure);
    }

    /** A claim over time: {@code invariant} holds at every poll for the whole {@code window} (fails at the first poll it does not). */
    public static void holdsFor(String what, Duration window, BooleanSupplier invariant) {
        long end = System.nanoTime() + window.toNanos();
        do {
            if (!invariant.getAsBoolean()) throw new AssertionError("no longer true: " + what);
            sleep(Math.min(POLL.toNanos(), Math.max(0, end - System.nanoTime())));
        } while (System.nanoTime() < end);
    }

    private static void sleep(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)); // the polling interval of a wait with a deadline
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting", e);
        }
    }
}
