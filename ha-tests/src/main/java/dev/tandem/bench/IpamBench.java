package dev.tandem.bench;

import dev.tandem.harness.JitActivity;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (a program, not a test): N concurrent HTTP clients allocating addresses from the ipam
 * sample workflow, side by side on one node, on the pair (+ witness) with async replication and on
 * the pair with sync replication; all real processes on this machine. Prints writes/s, p50, p99, the
 * primary's RSS, and the pair/single ratio.
 *
 * Each setup first runs load until its nodes' JIT compilers are quiet (at most {@code --jit-warmup} seconds, 0 to
 * measure nodes just started; see {@link JitActivity}).
 *
 * <pre>bin/tandem-bench ipam [--setups single,async,sync] [--clients 1,8,32] [--seconds 10] [--warmup 5] [--jit-warmup 180]</pre>
 */
public final class IpamBench {
    public static void main(String[] args) throws Exception {
        List<Integer> clients = List.of(1, 8, 32);
        List<String> setups = List.of("single", "async", "sync");
        int seconds = 10, warmup = 5, jitWarmup = 180;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--clients" -> clients = parseList(args[++i]);
                case "--setups" -> setups = List.of(args[++i].split(","));
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--jit-warmup" -> jitWarmup = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: bin/tandem-bench ipam [--setups single,async,sync] [--clients 1,8,32] [--seconds 10] [--warmup 5] [--jit-warmup 180]");
                    System.exit(2);
                }
            }
        }
        System.out.printf("ipam allocations through HTTP, real processes (%s, %d cores); warm-up %ds, then %ds per step%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), warmup, seconds);
        System.out.printf("%-8s %8s %10s %10s %10s %8s %8s %12s%n", "setup", "clients", "writes/s", "p50 ms", "p99 ms", "errors", "RSS MiB", "vs single");
        Map<Integer, Double> single = new LinkedHashMap<>();
        for (String setup : setups) {
            Path dir = Files.createTempDirectory("tandem-bench-" + setup + "-");
            try (Target t = setup.equals("single") ? Target.single(dir) : Target.pair(dir, setup)) {
                String base = t.primary.url() + "/workflows/ipam/pools";
                post(base, "{\"name\": \"bench\", \"cidr\": \"10.0.0.0/8\"}");
                String alloc = base + "/bench/allocations";
                String body = "{\"owner\": \"bench\"}";
                if (jitWarmup > 0) System.out.println(setup + ": " + t.warmUp(alloc, body, Duration.ofSeconds(jitWarmup)).describe());
                for (int c : clients) {
                    LoadGenerator.run(alloc, body, c, Duration.ofSeconds(warmup));
                    LoadGenerator.Result r = LoadGenerator.run(alloc, body, c, Duration.ofSeconds(seconds));
                    if (setup.equals("single")) single.put(c, r.perSecond());
                    String ratio = single.containsKey(c) && !setup.equals("single") ? String.format("%.2f", r.perSecond() / single.get(c)) : "";
                    System.out.printf("%-8s %8d %10.0f %10.2f %10.2f %8d %8d %12s%n", setup, c, r.perSecond(), r.percentileMillis(50),
                            r.percentileMillis(99), r.failed(), t.primary.rssMiB(), ratio);
                    String cmd = "bin/tandem-bench ipam --setups " + setup + " --clients " + c + " --seconds " + seconds;
                    Figures.value("ipam", setup + ", " + c + (c == 1 ? " client" : " clients") + ": writes/s", "writes/s", r.perSecond(), cmd);
                    Figures.value("ipam", setup + ", " + c + (c == 1 ? " client" : " clients") + ": p50", "ms", r.percentileMillis(50), cmd);
                    Figures.value("ipam", setup + ", " + c + (c == 1 ? " client" : " clients") + ": p99", "ms", r.percentileMillis(99), cmd);
                    Figures.value("memory", setup + ": primary RSS at " + c + (c == 1 ? " client" : " clients"), "MiB", t.primary.rssMiB(), cmd);
                }
            }
            CampaignBench.deleteTree(dir); // kept when the run failed: its node logs are there
        }
    }

    /** One node alone, or the pair + witness with the primary to load. */
    record Target(NodeProcess primary, AutoCloseable all, List<NodeProcess> data) implements AutoCloseable {
        static Target single(Path dir) throws Exception {
            int port = NodeProcess.freePort();
            int groupPort = NodeProcess.freePort();
            String yaml = """
                    node: {name: node-a, data_dir: %s}
                    group: {bind: "127.0.0.1:%d", members: ["127.0.0.1:%d"], secret_file: %s}
                    http: {bind: "127.0.0.1:%d"}
                    workflows: {dir: %s}
                    """.formatted(dir.resolve("data"), groupPort, groupPort, NodeProcess.secret(dir), port,
                    NodeProcess.home().resolve("sample-workflows"));
            NodeProcess n = new NodeProcess("node-a", dir, port, yaml).start();
            n.awaitStatus200("/health/primary", Duration.ofSeconds(120));
            return new Target(n, n, List.of(n));
        }

        static Target pair(Path dir, String mode) throws Exception {
            ProcessGroup g = ProcessGroup.start(dir, "replication: {mode: " + mode + "}");
            NodeProcess p = g.awaitPrimary(Duration.ofSeconds(60));
            ProcessGroup.awaitInSync(g.other(p), Duration.ofSeconds(60));
            return new Target(p, g, List.of(p, g.other(p)));
        }

        /** 5 s rounds of 8 clients at {@code url} until the data nodes' JIT compilers are quiet (or {@code max} passed). */
        JitActivity.Warmup warmUp(String url, String body, Duration max) throws Exception {
            return JitActivity.warmUp(data, () -> LoadGenerator.run(url, body, 8, Duration.ofSeconds(5)), max);
        }

        @Override
        public void close() throws Exception {
            all.close();
        }
    }

    static List<Integer> parseList(String s) {
        List<Integer> out = new ArrayList<>();
        for (String p : s.split(",")) out.add(Integer.parseInt(p.trim()));
        return out;
    }

    static void post(String url, String json) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new IllegalStateException("POST " + url + " -> " + r.statusCode() + " " + r.body());
    }
}
