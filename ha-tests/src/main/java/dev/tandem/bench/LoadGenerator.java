package dev.tandem.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/** Closed-loop HTTP load: N clients each send a request, wait for the answer, repeat, for a fixed time. */
public final class LoadGenerator {
    public record Result(int clients, long ok, long failed, double seconds, long[] latenciesMicros) {
        public double perSecond() {
            return ok / seconds;
        }

        public double percentileMillis(double p) {
            if (latenciesMicros.length == 0) return Double.NaN;
            int i = (int) Math.min(latenciesMicros.length - 1, Math.ceil(p / 100.0 * latenciesMicros.length) - 1);
            return latenciesMicros[Math.max(0, i)] / 1000.0;
        }
    }

    private LoadGenerator() {}

    /** POSTs {@code body} to {@code url} from {@code clients} threads for {@code duration}; 2xx counts as ok. */
    public static Result run(String url, String body, int clients, Duration duration) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        AtomicLong ok = new AtomicLong(), failed = new AtomicLong();
        List<long[]> perThread = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(clients);
        long end = System.nanoTime() + duration.toNanos();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            long[][] holder = new long[1][];
            Thread t = new Thread(() -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                        if (status / 100 == 2) {
                            ok.incrementAndGet();
                            if (n == lat.length) lat = Arrays.copyOf(lat, n * 2);
                            lat[n++] = (System.nanoTime() - t0) / 1000;
                        } else {
                            failed.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
                holder[0] = Arrays.copyOf(lat, n);
                synchronized (perThread) {
                    perThread.add(holder[0]);
                }
                done.countDown();
            }, "load-" + c);
            t.setDaemon(true);
            t.start();
        }
        done.await();
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] all = perThread.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(clients, ok.get(), failed.get(), seconds, all);
    }
}
