package dev.tandem.ha;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.bench.FailoverBench;
import dev.tandem.bench.HookLatencyBench;
import dev.tandem.bench.IpamBench;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/**
 * The short version of the benchmarks CI runs: each bin/tandem-bench program, with few runs, on real
 * processes. They must finish and print their summary lines (a benchmark fails loudly when a write is
 * lost or no failover happens); the numbers themselves are not asserted: they belong to the full runs.
 */
class BenchSmokeTest {
    interface Program {
        void run() throws Exception;
    }

    /** Runs {@code program}, echoing and returning what it printed. */
    static String output(Program program) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeStream(original, copy), true));
        try {
            program.run();
        } finally {
            System.setOut(original);
        }
        return copy.toString();
    }

    @Test
    void failoverBenchmark_killStopAndSwitchoverOnce_andLeavesNoDataBehind() throws Exception {
        java.util.Set<java.nio.file.Path> before = failoverDirs();
        String out = output(() -> FailoverBench.main(new String[] {"--runs", "1"}));
        assertThat(out).contains("kill -9 -> first acknowledged write", "SIGSTOP -> first acknowledged write",
                "switchover: writes unavailable", "0 lost");
        assertThat(failoverDirs()).as("the nodes' data dirs of a run that succeeded are deleted").isSubsetOf(before);
    }

    private static java.util.Set<java.nio.file.Path> failoverDirs() throws java.io.IOException {
        try (var dirs = java.nio.file.Files.list(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")))) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("tandem-failover-")).collect(java.util.stream.Collectors.toSet());
        }
    }

    @Test
    void hookLatencyBenchmark_threeSwitchovers() throws Exception {
        assertThat(output(() -> HookLatencyBench.main(new String[] {"--switchovers", "3"}))).contains("role change -> hook start over");
    }

    @Test
    void ipamBenchmark_singleAndSyncForOneSecond() throws Exception {
        String out = output(() -> IpamBench.main(new String[] {"--setups", "single,sync", "--clients", "1,4", "--seconds", "1", "--warmup", "1", "--jit-warmup", "1"}));
        assertThat(out).contains("single").contains("sync").contains("single: warmed up").contains("sync: warmed up");
    }

    /** The peer needs Debian packages: .ci/run installs them; elsewhere the benchmark installs them as root, or this is skipped. */
    @Test
    void peerBenchmark_singleAndPairForOneSecond() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        org.junit.jupiter.api.Assumptions.assumeTrue(root || dev.tandem.bench.PeerBench.missingPackages().isEmpty(),
                "the peer's packages are missing and this is not root: " + dev.tandem.bench.PeerBench.PACKAGES);
        String out = output(() -> dev.tandem.bench.PeerBench.main(new String[] {"--setups", "single,pair", "--clients", "1,2", "--seconds", "1", "--warmup", "0", "--jit-warmup", "1"}));
        assertThat(out).contains("pair: warmed up").containsPattern("(?m)^single +1 \\|").containsPattern("(?m)^pair +2 \\|").contains("x");
    }

    static final class TeeStream extends OutputStream {
        private final OutputStream a, b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
