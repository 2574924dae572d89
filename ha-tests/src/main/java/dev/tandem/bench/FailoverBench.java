package dev.tandem.bench;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Benchmark (a program, not a test): real processes (pair + witness, defaults: 100ms heartbeat, 1s
 * failure timeout). Each run signals the primary (kill -9 or SIGSTOP) and times, from the signal,
 * the survivor's first /health/primary 200 and its first acknowledged write; then restores the node.
 *
 * <pre>bin/tandem-bench failover [--runs 20] [--faults kill,stop]</pre>
 */
public final class FailoverBench {
    public static void main(String[] args) throws Exception {
        int runs = 20;
        List<String> faults = List.of("kill", "stop");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--faults" -> faults = List.of(args[++i].split(","));
                default -> {
                    System.err.println("usage: bin/tandem-bench failover [--runs 20] [--faults kill,stop]");
                    System.exit(2);
                }
            }
        }
        Path root = Files.createTempDirectory("tandem-failover-");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        try (ProcessGroup g = ProcessGroup.start(root)) {
            NodeProcess first = g.awaitPrimary(Duration.ofSeconds(30));
            System.out.printf("failover of the primary, real processes, %d runs per fault (%s, %d cores)%n", runs, Runtime.version(),
                    Runtime.getRuntime().availableProcessors());
            for (String fault : faults) {
                long[] toHealth = new long[runs], toWrite = new long[runs];
                for (int r = 0; r < runs; r++) {
                    NodeProcess p = g.awaitPrimary(Duration.ofSeconds(30));
                    NodeProcess s = g.other(p);
                    ProcessGroup.awaitInSync(s, Duration.ofSeconds(120));
                    long t0 = System.nanoTime();
                    if (fault.equals("kill")) p.kill9();
                    else p.stop();
                    while (s.status("/health/primary", Duration.ofMillis(200)) != 200) {
                        if (System.nanoTime() - t0 > 30_000_000_000L) throw new AssertionError("no failover within 30 s\n" + g.logs());
                        NodeProcess.pause(1);
                    }
                    toHealth[r] = (System.nanoTime() - t0) / 1_000_000;
                    // the write: a new ipam pool (state-independent, so it measures the role change alone)
                    String pool = "{\"name\": \"" + fault + "-" + r + "\", \"cidr\": \"10.0.0.0/24\"}";
                    while (true) {
                        HttpResponse<String> w = client.send(HttpRequest.newBuilder(URI.create(s.url() + "/workflows/ipam/pools"))
                                .timeout(Duration.ofSeconds(5)).header("content-type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(pool)).build(), HttpResponse.BodyHandlers.ofString());
                        if (w.statusCode() == 201) break;
                        if (System.nanoTime() - t0 > 30_000_000_000L) throw new AssertionError("no write within 30 s: " + w.body());
                    }
                    toWrite[r] = (System.nanoTime() - t0) / 1_000_000;
                    System.out.printf("  %-4s run %2d: %s -> %s   primary after %4d ms, first write after %4d ms%n", fault, r + 1, p.name, s.name,
                            toHealth[r], toWrite[r]);
                    if (fault.equals("kill")) p.start();
                    else p.cont();
                    p.awaitStatus200("/health/secondary", Duration.ofSeconds(120));
                }
                print(fault.equals("kill") ? "kill -9 -> /health/primary 200" : "SIGSTOP -> /health/primary 200", toHealth);
                print(fault.equals("kill") ? "kill -9 -> first acknowledged write" : "SIGSTOP -> first acknowledged write", toWrite);
            }
        }
    }

    static void print(String what, long[] ms) {
        long[] s = ms.clone();
        Arrays.sort(s);
        System.out.printf("%-38s min %4d  p50 %4d  p99 %4d  max %4d  ms (n=%d)%n", what, s[0], pct(s, 50), pct(s, 99), s[s.length - 1], s.length);
    }

    static long pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
