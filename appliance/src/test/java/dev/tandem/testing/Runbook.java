package dev.tandem.testing;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator's runbook in the words tests use, the same over a group in one JVM (appliance's
 * {@code LocalGroup}) and a group of real processes (ha-tests' {@code ProcessGroup}): faults
 * ({@link #kill9}, {@link #isolate}), operator actions ({@link #switchover}, {@link #maintenance}), and
 * expectations timed from the last fault against a {@link Bound}:
 * <pre>
 *   group.kill9(primary);
 *   group.expectPrimary(secondary).within(Bound.failover());
 *   group.expectDecision("witness", "no primary in the view").within(Bound.soon());
 * </pre>
 * Nodes are named as in their configuration.
 */
public interface Runbook {
    /** kill -9: the process is gone without a word (in one JVM: cut off from the group, then closed). */
    void kill9(String node);

    /** Cuts {@code side} off from every other member, both directions, until {@link #heal}. */
    void isolate(String... side);

    void heal();

    /** Asks {@code via} for a planned switchover to {@code target} (null: the best secondary); the answer. */
    JsonObject switchover(String via, String target);

    /** Turns maintenance (automatic failover paused) on or off through {@code via}. */
    void maintenance(String via, boolean on);

    /** The node serves as primary: it may acknowledge writes now ({@code /health/primary} answers 200). */
    boolean acknowledges(String node);

    /** The node's role now (PRIMARY, SECONDARY, NOT_IN_GROUP, WITNESS), or DOWN. */
    String roleOf(String node);

    /** The node's last decision line, as {@code /api/v1/node} shows it. */
    String decision(String node);

    /** What the group looks like, for a failure message. */
    String describe();

    /** When the last fault was injected or switchover asked for ({@code System.nanoTime()}): expectations are timed from it. */
    long lastFaultNanos();

    /** The node serves as primary: elected, holding its lease, accepting writes (what SPEC 8 times). */
    default Expectation expectPrimary(String node) {
        return new Expectation(node + " serving as primary", () -> acknowledges(node), this::describe, lastFaultNanos());
    }

    default Expectation expectRole(String node, String role) {
        return new Expectation(node + " " + role, () -> role.equals(roleOf(node)), this::describe, lastFaultNanos());
    }

    /**
     * The node's decision line contains one of {@code texts}: words of {@code GroupState}'s lines, e.g. the
     * coordinator's "primary node-b (term 3) is in the view" or a follower's "node-b is primary of term 3".
     */
    default Expectation expectDecision(String node, String... texts) {
        java.util.List<String> any = java.util.List.of(texts);
        return new Expectation(node + "'s decision says " + String.join(" or ", any.stream().map(t -> '"' + t + '"').toList()),
                () -> any.stream().anyMatch(decision(node)::contains), () -> node + "'s decision: " + decision(node) + "\n" + describe(),
                lastFaultNanos());
    }

    /** The decision line of any member that names {@code primary} as primary of {@code term}, coordinator or not. */
    static String[] namesPrimary(String primary, long term) {
        return new String[] {"primary " + primary + " (term " + term + ")", primary + " is primary of term " + term};
    }

    /** Something the group must come to, timed from {@code sinceNanos}. */
    record Expectation(String what, BooleanSupplier condition, Supplier<String> context, long sinceNanos) {
        /** Waits until it holds, at most {@code bound}'s deadline after the fault; returns the time since the fault. */
        public Duration within(Bound bound) {
            Duration left = bound.deadline().minusNanos(System.nanoTime() - sinceNanos);
            Await.until(what + " (" + (bound.promise().isEmpty() ? "deadline" : bound.promise() + " " + bound.promised().toMillis() + " ms")
                    + ", CI slack " + bound.slack().toSeconds() + " s)", left.isNegative() ? Duration.ZERO : left, condition, context);
            Duration took = Duration.ofNanos(System.nanoTime() - sinceNanos);
            bound.report(what, took);
            return took;
        }
    }
}
