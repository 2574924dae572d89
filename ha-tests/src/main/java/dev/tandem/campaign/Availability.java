package dev.tandem.campaign;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Availability per fault kind over campaign rounds: how long from the fault until writes succeed again through
 * the faulted data node's own address and through the other one's, and the share of requests that failed,
 * told apart by cause: the client called a node that did not answer (it was down or frozen), or a node that
 * answered refused or could not confirm the write (the group's doing).
 */
public final class Availability {
    /** The figures of one fault kind. */
    public record Row(Fault.Kind kind, int faults, long[] otherMs, long[] faultedMs, int requests, int calledUnreachable, int groupRefused) {
        public double unreachableShare() {
            return requests == 0 ? 0 : (double) calledUnreachable / requests;
        }

        public double groupShare() {
            return requests == 0 ? 0 : (double) groupRefused / requests;
        }
    }

    private Availability() {}

    public static List<Row> of(List<Campaign.Round> rounds) {
        Map<Fault.Kind, List<Campaign.Round>> byKind = new EnumMap<>(Fault.Kind.class);
        for (Campaign.Round r : rounds) byKind.computeIfAbsent(r.fault().kind(), k -> new ArrayList<>()).add(r);
        List<Row> rows = new ArrayList<>();
        byKind.forEach((kind, rs) -> {
            List<Long> other = new ArrayList<>(), faulted = new ArrayList<>();
            int requests = 0, unreachable = 0, group = 0;
            for (Campaign.Round r : rs) {
                r.writesBackMs().forEach((node, ms) -> {
                    if (ms < 0) return;
                    (node.equals(r.target()) ? faulted : other).add(ms);
                });
                requests += r.requests();
                unreachable += r.calledUnreachable();
                group += r.groupRefused();
            }
            rows.add(new Row(kind, rs.size(), sorted(other), sorted(faulted), requests, unreachable, group));
        });
        return rows;
    }

    private static long[] sorted(List<Long> xs) {
        return xs.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /** The p-th percentile (0-100) of sorted values, nearest rank; -1 for none. */
    public static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) return -1;
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    public static String table(List<Row> rows) {
        StringBuilder b = new StringBuilder(String.format("%-12s %6s %26s %26s %9s %14s %14s%n", "fault", "count",
                "other address p50/max ms", "its own address p50/max", "requests", "node down", "group refused"));
        for (Row r : rows) {
            b.append(String.format("%-12s %6d %26s %26s %9d %13.1f%% %13.1f%%%n", r.kind().name().toLowerCase().replace('_', '-'), r.faults(),
                    range(r.otherMs()), range(r.faultedMs()), r.requests(), 100 * r.unreachableShare(), 100 * r.groupShare()));
        }
        return b.toString();
    }

    private static String range(long[] xs) {
        return xs.length == 0 ? "-" : percentile(xs, 50) + " / " + xs[xs.length - 1];
    }
}
