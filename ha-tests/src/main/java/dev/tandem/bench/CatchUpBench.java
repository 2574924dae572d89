package dev.tandem.bench;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Benchmark: the secondary is stopped, the primary takes N changes (ipam allocations, 32 clients),
 * the secondary restarts; prints the time from its rejoining (ready) to caught up (/health/secondary 200).
 *
 * <pre>bin/tandem-bench catchup [--changes 100000]</pre>
 */
public final class CatchUpBench {
    public static void main(String[] args) throws Exception {
        int changes = 100_000;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--changes")) changes = Integer.parseInt(args[++i]);
            else {
                System.err.println("usage: bin/tandem-bench catchup [--changes 100000]");
                System.exit(2);
            }
        }
        Path dir = Files.createTempDirectory("tandem-catchup-");
        try (ProcessGroup g = ProcessGroup.start(dir)) {
            ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60));
            NodeProcess p = pair.primary(), s = pair.secondary();
            IpamBench.post(p.url() + "/workflows/ipam/pools", "{\"name\": \"bench\", \"cidr\": \"10.0.0.0/8\"}");
            s.kill9();
            long start = lsn(p);
            long t0 = System.nanoTime();
            String alloc = p.url() + "/workflows/ipam/pools/bench/allocations";
            while (lsn(p) - start < changes) {
                LoadGenerator.run(alloc, "{\"owner\": \"bench\"}", 32, Duration.ofSeconds(5));
            }
            long missed = lsn(p) - start;
            System.out.printf("primary took %d changes while the secondary was down (%.0f s)%n", missed, (System.nanoTime() - t0) / 1e9);
            s.start();
            s.awaitStatus200("/health/ready", Duration.ofSeconds(120));
            long t1 = System.nanoTime();
            s.awaitStatus200("/health/secondary", Duration.ofSeconds(300));
            long ms = (System.nanoTime() - t1) / 1_000_000;
            System.out.printf("catch-up of %d changes: %d ms from rejoining to caught up (%.0f changes/s)%n", missed, ms, missed * 1000.0 / ms);
            String cmd = "bin/tandem-bench catchup --changes " + changes;
            Figures.value("catch-up", "catch-up of " + missed + " changes: rejoining -> caught up", "ms", ms, cmd);
            Figures.value("catch-up", "catch-up rate", "changes/s", missed * 1000.0 / ms, cmd);
        }
        CampaignBench.deleteTree(dir); // kept when the run failed: its node logs are there
    }

    static long lsn(NodeProcess n) {
        return ProcessGroup.getJson(n, "/api/v1/node").getLong("lsn");
    }
}
