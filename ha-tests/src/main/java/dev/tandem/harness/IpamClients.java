package dev.tandem.harness;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Clients allocating from one ipam pool through the given nodes, each with its own owner names, until
 * {@link #stop()}. Acknowledged means answered 201; everything else (refusals, timeouts, a node that
 * is gone) is counted and retried. Used by the fault tests and the failover benchmark.
 */
public final class IpamClients {
    /** One acknowledged allocation, when its answer arrived (System.nanoTime) and how long the request took. */
    public record Ack(long atNanos, String ip, String owner, long latencyNanos) {}

    public final Map<String, String> acknowledged = new ConcurrentHashMap<>(); // ip -> owner
    public final Queue<Ack> acks = new ConcurrentLinkedQueue<>();
    public final List<String> duplicates = Collections.synchronizedList(new ArrayList<>());
    public final AtomicInteger failures = new AtomicInteger();
    /** The answers that were not 201 (or the exception), newest last (the last 10,000): "ms thread node answer". */
    public final Queue<String> lastFailures = new ConcurrentLinkedQueue<>();
    /** When each failed request ended (System.nanoTime), the last 10,000. */
    public final Queue<Long> failedAt = new ConcurrentLinkedQueue<>();
    private final String pool;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    /** {@code perTarget} client threads for each node in {@code targets}. */
    public IpamClients(String pool, List<NodeProcess> targets, int perTarget) {
        this.pool = pool;
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(300)).build();
        int id = 0;
        for (NodeProcess n : targets) {
            URI uri = URI.create(n.url() + "/workflows/ipam/pools/" + pool + "/allocations");
            for (int i = 0; i < perTarget; i++) {
                String prefix = "c" + (id++) + "-";
                Thread t = new Thread(() -> {
                    for (int k = 0; running.get(); k++) {
                        String owner = prefix + k;
                        long sent = System.nanoTime();
                        try {
                            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(8))
                                    .header("content-type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"owner\": \"" + owner + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 201) {
                                String ip = new JsonObject(r.body()).getString("ip");
                                if (acknowledged.putIfAbsent(ip, owner) != null) duplicates.add(ip);
                                long now = System.nanoTime();
                                acks.add(new Ack(now, ip, owner, now - sent));
                            } else {
                                failed(n.name + " answered " + r.statusCode() + ": " + r.body());
                            }
                        } catch (Exception e) {
                            failed(n.name + ": " + e);
                            NodeProcess.pause(20);
                        }
                    }
                }, "ipam-client-" + prefix);
                t.setDaemon(true); // a failed test or benchmark must not be kept alive by its clients
                t.start();
                threads.add(t);
            }
        }
    }

    private void failed(String what) {
        failures.incrementAndGet();
        failedAt.add(System.nanoTime());
        while (failedAt.size() > 10_000) failedAt.poll();
        lastFailures.add(System.nanoTime() / 1_000_000 + " " + Thread.currentThread().getName() + " " + what);
        while (lastFailures.size() > 10_000) lastFailures.poll();
    }

    public int size() {
        return acknowledged.size();
    }

    /** Stops the clients and waits for their last requests. */
    public void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) t.join();
    }

    /** What {@code node} stores in this pool: ip -> owner (ipam answers at most 10,000); an address stored twice fails. */
    public Map<String, String> storedOn(NodeProcess node) {
        Map<String, String> stored = new java.util.HashMap<>();
        for (JsonObject a : allocations(node.name, pool, p -> ProcessGroup.getJson(node, p))) {
            if (stored.put(a.getString("ip"), a.getString("owner")) != null) throw new AssertionError("stored twice on " + node.name + ": " + a);
        }
        return stored;
    }

    /**
     * Every allocation of {@code pool} as the node lists it, page by page ({@code next}): one answer holds at most 10,000,
     * and a fast machine allocates more than that in a fault test (DiskFullTest, 2026-12-04, read only the first page
     * and took the rest for lost). {@code get} fetches one path from the node.
     */
    public static List<JsonObject> allocations(String node, String pool, java.util.function.Function<String, JsonObject> get) {
        List<JsonObject> all = new ArrayList<>();
        String from = null;
        for (int page = 0; page < 10_000; page++) {
            JsonObject answer = get.apply("/workflows/ipam/pools/" + pool + "/allocations?limit=10000"
                    + (from == null ? "" : "&from=" + java.net.URLEncoder.encode(from, java.nio.charset.StandardCharsets.UTF_8)));
            for (Object o : answer.getJsonArray("allocations")) all.add((JsonObject) o);
            from = answer.getString("next");
            if (from == null) return all;
        }
        throw new IllegalStateException(node + ": pool " + pool + " still had pages after 10,000 of them");
    }

    /** The longest time between two consecutive acknowledgements with at least one of them inside [from, to] (nanoTime). */
    public long longestGapNanos(long from, long to) {
        List<Long> times = acks.stream().map(Ack::atNanos).sorted().toList();
        long longest = 0;
        for (int i = 1; i < times.size(); i++) {
            if (times.get(i) >= from && times.get(i - 1) <= to) longest = Math.max(longest, times.get(i) - times.get(i - 1));
        }
        return longest;
    }
}
