package dev.tandem.cluster;

import dev.tandem.node.TandemNode;
import dev.tandem.store.StoreTx;
import dev.tandem.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * What a sync write costs on a pair without HTTP and Python in front of it: real nodes in one JVM (real
 * JChannels over loopback, real H2 files, a witness), writers that commit one document each and wait until
 * the write is acknowledged ({@code Replication.awaitReplicated}, as a route does). It prints, per number of
 * writers, the store commit and the wait for the secondary (ship, apply, ack) separately, in microseconds.
 *
 * <pre>bin/tandem-bench replication [--writers 1,8] [--writes 3000] [--warmup 3000] [--fsync false]</pre>
 */
public final class ReplicationLatencyBench {
    private ReplicationLatencyBench() {}

    public static void main(String[] args) throws Exception {
        List<Integer> writers = List.of(1, 8);
        int writes = 3000, warmup = 3000;
        boolean fsync = false;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--writers" -> writers = Arrays.stream(need(args[i], v).split(",")).map(Integer::parseInt).toList();
                case "--writes" -> writes = Integer.parseInt(need(args[i], v));
                case "--warmup" -> warmup = Integer.parseInt(need(args[i], v));
                case "--fsync" -> fsync = Boolean.parseBoolean(need(args[i], v));
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: bin/tandem-bench replication [--writers 1,8] [--writes 3000] [--warmup 3000] [--fsync false]");
            }
            i++;
        }
        Path root = Files.createTempDirectory("tandem-replication-bench");
        try (LocalGroup g = LocalGroup.start(root, Files.createDirectories(root.resolve("no-workflows")), "majority",
                List.of("replication.fsync=" + fsync), "node-a:data", "node-b:data", "witness:witness")) {
            String pa = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60));
            TandemNode primary = g.nodes.get(pa), secondary = g.nodes.get(LocalGroup.other(pa));
            Await.until("the secondary caught up", Duration.ofSeconds(60), () -> secondary.replication().caughtUp());
            System.out.printf("sync writes on a pair in one JVM (%s, %d cores; replication.fsync %s): one document per write,%n"
                    + "commit = the store's commit on the primary, wait = until the secondary applied it (ship, apply, ack), in microseconds%n",
                    Runtime.version(), Runtime.getRuntime().availableProcessors(), fsync);
            run(primary, 1, warmup, "warmup");
            System.out.printf("%-8s %9s %11s %11s %9s %9s %9s %11s %11s%n", "writers", "writes/s", "commit p50", "commit p99",
                    "wait p50", "wait p90", "wait p99", "total p50", "total p99");
            for (int w : writers) {
                long[][] r = run(primary, w, writes, "w" + w);
                long elapsed = r[3][0];
                System.out.printf("%-8d %9.0f %11d %11d %9d %9d %9d %11d %11d%n", w, writes * 1e9 / elapsed, pct(r[0], 50), pct(r[0], 99),
                        pct(r[1], 50), pct(r[1], 90), pct(r[1], 99), pct(r[2], 50), pct(r[2], 99));
            }
            if (secondary.store().lastLsn() < primary.store().lastLsn()) throw new AssertionError("the secondary is behind after sync writes");
        } finally {
            try (var files = Files.walk(root)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String need(String option, String value) {
        if (value == null) throw new IllegalArgumentException(option + " needs a value");
        return value;
    }

    /** {commit µs[], wait µs[], total µs[], {elapsed ns}} over {@code writes} writes split across {@code writers} threads. */
    private static long[][] run(TandemNode primary, int writers, int writes, String prefix) throws Exception {
        long[] commit = new long[writes], wait = new long[writes], total = new long[writes];
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int t = 0; t < writers; t++) {
                int from = t * writes / writers, to = (t + 1) * writes / writers;
                all.add(pool.submit(() -> {
                    for (int i = from; i < to; i++) {
                        long a = System.nanoTime();
                        long lsn;
                        try (StoreTx tx = primary.store().begin("bench")) {
                            tx.put("docs", prefix + "-" + i, "{\"i\":" + i + "}");
                            lsn = tx.commit();
                        }
                        long b = System.nanoTime();
                        primary.replication().awaitReplicated(lsn).get(30, TimeUnit.SECONDS);
                        long c = System.nanoTime();
                        commit[i] = (b - a) / 1000;
                        wait[i] = (c - b) / 1000;
                        total[i] = (c - a) / 1000;
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) f.get(10, TimeUnit.MINUTES);
        } finally {
            pool.shutdownNow();
        }
        return new long[][] {commit, wait, total, {System.nanoTime() - t0}};
    }

    private static long pct(long[] v, int p) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }
}
