package dev.tandem.bench;

import dev.tandem.harness.NodeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark (a program, not a test): N concurrent HTTP clients allocating addresses from the ipam
 * sample workflow on one real node process. Prints writes/s, p50, p99 and the node's RSS.
 *
 * <pre>bin/tandem-bench ipam [--clients 1,8,32] [--seconds 10] [--warmup 5]</pre>
 */
public final class IpamBench {
    public static void main(String[] args) throws Exception {
        List<Integer> clients = List.of(1, 8, 32);
        int seconds = 10, warmup = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--clients" -> clients = parseList(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: bin/tandem-bench ipam [--clients 1,8,32] [--seconds 10] [--warmup 5]");
                    System.exit(2);
                }
            }
        }
        Path dir = Files.createTempDirectory("tandem-bench-");
        int port = NodeProcess.freePort();
        int groupPort = NodeProcess.freePort();
        Path samples = NodeProcess.home().resolve("sample-workflows");
        String yaml = """
                node: {name: node-a, data_dir: %s}
                group: {bind: "127.0.0.1:%d", secret_file: %s}
                http: {bind: "127.0.0.1:%d"}
                workflows: {dir: %s}
                """.formatted(dir.resolve("data"), groupPort, NodeProcess.secret(dir), port, samples);
        try (NodeProcess node = new NodeProcess("node-a", dir, port, yaml).start()) {
            node.awaitStatus200("/health/ready", Duration.ofSeconds(120));
            String base = node.url() + "/workflows/ipam/pools";
            post(base, "{\"name\": \"bench\", \"cidr\": \"10.0.0.0/8\"}");
            String alloc = base + "/bench/allocations";
            String body = "{\"owner\": \"bench\"}";
            System.out.printf("ipam allocations on one node (%s, %d cores); warm-up %ds per step%n",
                    Runtime.version(), Runtime.getRuntime().availableProcessors(), warmup);
            System.out.printf("%8s %10s %10s %10s %8s %8s%n", "clients", "writes/s", "p50 ms", "p99 ms", "errors", "RSS MiB");
            for (int c : clients) {
                LoadGenerator.run(alloc, body, c, Duration.ofSeconds(warmup));
                LoadGenerator.Result r = LoadGenerator.run(alloc, body, c, Duration.ofSeconds(seconds));
                System.out.printf("%8d %10.0f %10.2f %10.2f %8d %8d%n", c, r.perSecond(), r.percentileMillis(50),
                        r.percentileMillis(99), r.failed(), node.rssMiB());
            }
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
