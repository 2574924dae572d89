package dev.tandem.campaign;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One fault of a campaign: what, on whom (a role, resolved when it happens: "primary", "secondary",
 * "witness"), and how long it lasts before the heal. A schedule is drawn from a seed alone, so the same seed
 * replays the same faults.
 */
public record Fault(Kind kind, String target, long holdMs) {
    public enum Kind {
        /** kill -9, then a restart after the hold. */
        KILL9,
        /** SIGSTOP, then SIGCONT after the hold. */
        FREEZE,
        /** SIGTERM (a clean stop), then a start. */
        RESTART,
        /** Cut off from every other member (the fault endpoint), then healed. */
        PARTITION,
        /** A planned switchover to the other data node. */
        SWITCHOVER,
        /** Maintenance on for the hold, then off. */
        MAINTENANCE,
        /** The role hooks raise, across a switchover. */
        HOOK_FAIL,
        /** The role hooks hang until hook_timeout stops them, across a switchover. */
        HOOK_HANG,
        /** The data node's data_dir fills up (a loop-mounted filesystem; root only), then space is freed and it is started if it stopped. */
        DISK_FULL
    }

    static List<Fault> schedule(long seed, int count, boolean witness) {
        Random r = new Random(seed);
        List<Fault> out = new ArrayList<>();
        Kind[] kinds = Kind.values();
        for (int i = 0; i < count; i++) {
            Kind k = kinds[r.nextInt(kinds.length)];
            String target = switch (k) {
                case KILL9, FREEZE, RESTART, PARTITION, DISK_FULL -> {
                    int x = r.nextInt(witness && k != Kind.DISK_FULL ? 5 : 4); // the primary more often: its loss is the failover
                    yield x <= 1 ? "primary" : x <= 3 ? "secondary" : "witness";
                }
                default -> "primary";
            };
            long hold = switch (k) {
                case FREEZE -> 300 + r.nextInt(2700); // shorter than, about and longer than the failure timeout
                case KILL9, PARTITION, MAINTENANCE -> 500 + r.nextInt(3000);
                default -> 300 + r.nextInt(1000);
            };
            out.add(new Fault(k, target, hold));
        }
        return out;
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase().replace('_', '-') + " " + target + " for " + holdMs + " ms";
    }
}
