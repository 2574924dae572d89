package dev.tandem.campaign;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every request of a campaign as the clients saw it, and the faults between them, on one clock. The
 * checker reads it; a violation prints the part of it around the moment that broke the rule.
 */
public final class History {
    private static final Pattern COMMIT = Pattern.compile("(\\S+) term=(\\d+) lsn=(\\d+)");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    /** A fault or a phase of the campaign, at a time on the history's clock. */
    public record Note(long at, String what) {}

    public final long t0 = System.nanoTime();
    private final AtomicLong ids = new AtomicLong();
    private final Queue<Op> ops = new ConcurrentLinkedQueue<>();
    private final Queue<Note> notes = new ConcurrentLinkedQueue<>();

    public void note(String what) {
        notes.add(new Note(System.nanoTime(), what));
    }

    public List<Op> ops() {
        return new ArrayList<>(ops);
    }

    /** How many requests invoked at or after {@code nanos} were acknowledged; reads the history in place (a wait polls it). */
    public long acknowledgedSince(long nanos) {
        long n = 0;
        for (Op o : ops) if (o.outcome() == Op.Outcome.OK && o.invoke() >= nanos) n++;
        return n;
    }

    public List<Note> notes() {
        return new ArrayList<>(notes);
    }

    /**
     * Sends one request and records it. No retry: an answer that is not 2xx is a FAIL when the route refused
     * it (4xx) or no connection was made, else UNKNOWN (the change may or may not have been made).
     */
    public Op call(String workload, int client, String via, String url, String key, String method, String body, Duration timeout) {
        long id = ids.incrementAndGet();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).header("content-type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        long invoke = System.nanoTime();
        Op op;
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            long complete = System.nanoTime();
            int status = r.statusCode();
            String servedBy = null;
            long term = 0, lsn = 0;
            Matcher m = COMMIT.matcher(r.headers().firstValue("X-Tandem-Commit").orElse(""));
            if (m.matches()) {
                servedBy = m.group(1);
                term = Long.parseLong(m.group(2));
                lsn = Long.parseLong(m.group(3));
            }
            Op.Outcome outcome = status / 100 == 2 ? Op.Outcome.OK : status / 100 == 4 ? Op.Outcome.FAIL : Op.Outcome.UNKNOWN;
            op = new Op(id, workload, client, via, key, invoke, complete, outcome, status, servedBy, term, lsn, r.body());
        } catch (ConnectException e) {
            op = new Op(id, workload, client, via, key, invoke, System.nanoTime(), Op.Outcome.FAIL, -1, null, 0, 0, "no connection: " + e.getMessage());
        } catch (HttpTimeoutException e) {
            op = new Op(id, workload, client, via, key, invoke, System.nanoTime(), Op.Outcome.UNKNOWN, -1, null, 0, 0, "timed out");
        } catch (IOException e) {
            op = new Op(id, workload, client, via, key, invoke, System.nanoTime(), Op.Outcome.UNKNOWN, -1, null, 0, 0, String.valueOf(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            op = new Op(id, workload, client, via, key, invoke, System.nanoTime(), Op.Outcome.UNKNOWN, -1, null, 0, 0, "interrupted");
        }
        ops.add(op);
        return op;
    }

    /** The faults and the {@code n} requests nearest to {@code at} (nanoTime), in time order: what a violation prints. */
    public String around(long at, int n) {
        List<Op> near = ops().stream().sorted(Comparator.comparingLong(o -> Math.abs(o.invoke() - at))).limit(n)
                .sorted(Comparator.comparingLong(Op::invoke)).toList();
        long from = near.isEmpty() ? at : near.get(0).invoke(), to = near.isEmpty() ? at : near.get(near.size() - 1).complete();
        StringBuilder b = new StringBuilder();
        for (Note x : notes) if (x.at() >= from - 2_000_000_000L && x.at() <= to + 2_000_000_000L) b.append(String.format("  %9.1f ms  %s%n", ms(x.at()), x.what()));
        for (Op o : near) b.append(String.format("  %9.1f ms  %s%n", ms(o.invoke()), o));
        return b.toString();
    }

    public double ms(long nanos) {
        return (nanos - t0) / 1e6;
    }

    /** The whole history, one JSON object per line: requests, then the notes. */
    public void write(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Op o : ops()) lines.add(o.toJson(t0).encode());
        for (Note x : notes) lines.add(new io.vertx.core.json.JsonObject().put("note_ms", ms(x.at())).put("what", x.what()).encode());
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, lines);
    }
}
