package dev.tandem.harness;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How busy a JVM's JIT compilers are, from {@code /proc/PID/task/*}: the CPU time of its threads named
 * "C1 CompilerThre..." and "C2 CompilerThre..." (HotSpot's compiler threads, as Linux truncates their names).
 *
 * <p>Why a benchmark needs it: a data node compiles GraalPy's interpreter for about a minute under load after it
 * starts, and meanwhile its compilers take 40-57% of a core on the primary and 20-40% on the secondary (2026-12-04,
 * {@code bin/tandem-bench ipam --setups sync --clients 8}); on 2 cores a pair's writes then run at a third of their
 * later rate. A benchmark of the running appliance warms up until the compilers are quiet ({@link #warmUp}).
 */
public final class JitActivity {
    /** Linux reports a thread's CPU time in clock ticks of USER_HZ, which is 100 on every architecture Debian ships. */
    static final int TICKS_PER_SECOND = 100;

    private JitActivity() {}

    /** The CPU time (ms) the compiler threads of process {@code pid} have used so far. */
    public static long compilerMillis(long pid) throws IOException {
        long ticks = 0;
        int threads = 0;
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (DirectoryStream<Path> all = Files.newDirectoryStream(tasks)) {
            for (Path task : all) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (NoSuchFileException ended) {
                    continue; // the thread ended while we looked
                }
                // pid (comm) state ... : comm may hold spaces and parentheses, so cut at the last ')'
                String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) continue;
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15 of stat)
                threads++;
            }
        } catch (NoSuchFileException e) {
            throw new IOException("no process " + pid + " (it ended?): cannot read " + tasks, e);
        }
        if (threads == 0) throw new IOException("process " + pid + " has no JIT compiler threads (not a HotSpot JVM, or -Xint)");
        return ticks * 1000 / TICKS_PER_SECOND;
    }

    /** What {@link #warmUp} did: how long it ran, and the busiest JVM's compilers' share of a core in its last round. */
    public record Warmup(Duration took, double lastShare, boolean quiet) {
        public String describe() {
            return quiet ? String.format(java.util.Locale.ROOT, "warmed up %d s, until the JIT compilers were quiet (%.0f%% of a core)",
                    took.toSeconds(), lastShare * 100)
                    : String.format(java.util.Locale.ROOT, "warmed up %d s; the JIT compilers were still busy (%.0f%% of a core): figures may be low",
                    took.toSeconds(), lastShare * 100);
        }
    }

    /** A round of load the warm-up repeats (for example 5 s of wrk). */
    @FunctionalInterface
    public interface Load {
        void run() throws Exception;
    }

    /** Quiet: a node's compilers used at most this share of a core over a round of load. */
    public static final double QUIET_SHARE = 0.05;

    /** {@link #warmUp(List, Load, Duration, double)} for node processes, until each is {@link #QUIET_SHARE quiet}. */
    public static Warmup warmUp(List<NodeProcess> nodes, Load load, Duration max) throws Exception {
        return warmUp(nodes.stream().map(NodeProcess::pid).toList(), load, max, QUIET_SHARE);
    }

    /**
     * Runs {@code load} round after round until, over one round, no process of {@code pids} spent more than
     * {@code quietShare} of a core compiling, or until {@code max} has passed (then it says so: {@link Warmup#quiet}).
     */
    public static Warmup warmUp(List<Long> pids, Load load, Duration max, double quietShare) throws Exception {
        long start = System.nanoTime();
        while (true) {
            List<Long> before = new ArrayList<>();
            for (long pid : pids) before.add(compilerMillis(pid));
            long t0 = System.nanoTime();
            load.run();
            double seconds = Math.max(1e-3, (System.nanoTime() - t0) / 1e9);
            double share = 0;
            for (int i = 0; i < pids.size(); i++) share = Math.max(share, (compilerMillis(pids.get(i)) - before.get(i)) / 1000.0 / seconds);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (share <= quietShare) return new Warmup(took, share, true);
            if (took.compareTo(max) >= 0) return new Warmup(took, share, false);
        }
    }
}
