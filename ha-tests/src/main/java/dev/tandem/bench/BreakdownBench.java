package dev.tandem.bench;

import dev.tandem.harness.HostCommand;
import dev.tandem.harness.JitActivity;
import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * Benchmark (a program, not a test): where one write's time goes. One client allocates ipam addresses; the data
 * nodes record the {@code tandem.*} flight-recorder events of {@code dev.tandem.metrics.WriteTrace} (started and
 * stopped with {@code jcmd}; the recording runs through the warm-up, whose writes are left out: see {@link #run});
 * the two recordings are joined by LSN into one timeline per write (the stamps are System.nanoTime, one clock for
 * every process on a Linux machine). Prints, per stage, the
 * median and p90 time after the request reached its route handler, and the median step from the stage before.
 *
 * The recordings start first; then load runs until the nodes' JIT compilers are quiet (at most {@code --jit-warmup}
 * seconds; see {@link JitActivity}), then the {@code --warmup} seconds, then the recorded ones.
 *
 * <pre>bin/tandem-bench breakdown [--setups single,pair,pair-fsync] [--seconds 10] [--warmup 10] [--clients 1] [--jit-warmup 180]</pre>
 */
public final class BreakdownBench {
    /** The recording's settings: the write path's events, nothing else. */
    static final String SETTINGS = "/dev/tandem/bench/write-path.jfc";

    public static void main(String[] args) throws Exception {
        List<String> setups = List.of("single", "pair", "pair-fsync");
        int seconds = 10, warmup = 10, clients = 1, jitWarmup = 180;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--setups" -> setups = List.of(args[++i].split(","));
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--jit-warmup" -> jitWarmup = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: bin/tandem-bench breakdown [--setups single,pair,pair-fsync] [--seconds 10] [--warmup 10] [--clients 1] [--jit-warmup 180]");
                    System.exit(2);
                }
            }
        }
        for (String setup : setups) {
            if (!List.of("single", "pair", "pair-fsync").contains(setup)) {
                System.err.println("breakdown: unknown setup '" + setup + "'; use single, pair or pair-fsync");
                System.exit(2);
            }
        }
        if (clients < 1) {
            System.err.println("breakdown: --clients must be at least 1");
            System.exit(2);
        }
        System.out.printf("one write's path, %d client(s), ipam allocations over HTTP (%s, %d cores); warm-up %d s, then %d s recorded%n",
                clients, Runtime.version(), Runtime.getRuntime().availableProcessors(), warmup, seconds);
        for (String setup : setups) {
            Path dir = Files.createTempDirectory("tandem-bench-breakdown-" + setup + "-");
            try {
                Timeline t = run(setup, dir, warmup, seconds, clients, jitWarmup);
                System.out.println();
                System.out.print(t.render(setup));
                String cmd = "bin/tandem-bench breakdown --setups " + setup + " --seconds " + seconds + (clients == 1 ? "" : " --clients " + clients);
                for (Timeline.Row r : t.rows()) Figures.value("breakdown", setup + ": " + r.stage(), "us", r.p50(), cmd);
            } finally {
                CampaignBench.deleteTree(dir);
            }
        }
    }

    static Timeline run(String setup, Path dir, int warmup, int seconds, int clients, int jitWarmup) throws Exception {
        Path settings = dir.resolve("write-path.jfc");
        try (InputStream in = BreakdownBench.class.getResourceAsStream(SETTINGS)) {
            if (in == null) throw new IllegalStateException(SETTINGS + " is not on the class path: build ha-tests first");
            Files.copy(in, settings);
        }
        AutoCloseable all;
        NodeProcess primary;
        List<NodeProcess> data = new ArrayList<>();
        if (setup.equals("single")) {
            primary = IpamBench.Target.single(dir.resolve("single")).primary();
            all = primary;
            data.add(primary);
        } else {
            ProcessGroup g = ProcessGroup.start(dir.resolve("pair"), "replication: {mode: sync" + (setup.equals("pair-fsync") ? ", fsync: true" : "") + "}");
            all = g;
            primary = g.awaitPrimary(Duration.ofSeconds(60));
            ProcessGroup.awaitInSync(g.other(primary), Duration.ofSeconds(60));
            data.add(primary);
            data.add(g.other(primary));
        }
        try (AutoCloseable ignored = all) {
            String base = primary.url() + "/workflows/ipam/pools";
            IpamBench.post(base, "{\"name\": \"bench\", \"cidr\": \"10.0.0.0/8\"}");
            String alloc = base + "/bench/allocations", body = "{\"owner\": \"bench\"}";
            // the recording starts before the warm-up, and only the writes after it count: one node whose recording
            // started after the warm-up served 1,100 writes/s over the next 10 s, against 2,500 when it had started
            // before (2026-12-04, wrk -c1). That node was also still compiling GraalPy's interpreter: the JIT warm-up
            // below waits until the compilers are quiet, recompilations the recording's start may cause included
            for (NodeProcess n : data) jcmd(n, "JFR.start", "name=write-path", "settings=" + settings);
            if (jitWarmup > 0) {
                System.out.println(setup + ": " + JitActivity.warmUp(data, () -> Client.drive(alloc, body, 5, Math.max(clients, 8)),
                        Duration.ofSeconds(jitWarmup)).describe());
            }
            Client.drive(alloc, body, warmup, clients);
            long term = term(primary);
            long since = System.nanoTime(); // the nodes' stamps are System.nanoTime too: one clock on a Linux machine
            Client r = Client.drive(alloc, body, seconds, clients);
            List<List<RecordedEvent>> events = new ArrayList<>();
            for (NodeProcess n : data) {
                Path file = dir.resolve(n.name + ".jfr");
                jcmd(n, "JFR.stop", "name=write-path", "filename=" + file);
                events.add(RecordingFile.readAllEvents(file));
            }
            if (term(primary) != term) {
                throw new IllegalStateException("the primary's term changed while the writes were recorded (a failover: the machine was too busy?); run again");
            }
            // the primary's stages from its own recording, the secondary's from its
            Timeline t = Timeline.of(events.get(0), events.size() > 1 ? events.get(1) : List.of(), since);
            t.client = r;
            return t;
        }
    }

    private static long term(NodeProcess primary) {
        var node = ProcessGroup.getJson(primary, "/api/v1/node");
        if (!"primary".equalsIgnoreCase(node.getString("role"))) throw new IllegalStateException(primary.name + " is no longer the primary: " + node);
        return node.getLong("term");
    }

    private static void jcmd(NodeProcess n, String... what) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), String.valueOf(n.pid())));
        cmd.addAll(Arrays.asList(what));
        HostCommand.output(cmd.toArray(String[]::new));
    }

    /**
     * The one client and what it saw: wrk when it is installed, the peer benchmark's load generator, so the two
     * benchmarks' figures compare (and a C program takes the nodes' 2 cores less than a JVM's HTTP client does);
     * else the JVM load generator.
     */
    record Client(String tool, double perSecond, double p50Ms, double p99Ms) {
        static final Path WRK = Path.of("/usr/bin/wrk");

        static Client drive(String url, String body, int seconds, int clients) throws Exception {
            if (seconds <= 0) return new Client("none", 0, 0, 0);
            if (Files.isExecutable(WRK)) {
                PeerBench.Wrk.Result w = PeerBench.Wrk.run(url, clients, seconds);
                return new Client("wrk -t" + Math.min(2, clients) + " -c" + clients, w.perSecond(), w.p50Ms(), w.p99Ms());
            }
            LoadGenerator.Result r = LoadGenerator.run(url, body, clients, Duration.ofSeconds(seconds));
            return new Client("JVM load generator; install wrk to compare with bin/tandem-bench peer", r.perSecond(),
                    r.percentileMillis(50), r.percentileMillis(99));
        }
    }

    /** The writes' stages joined by LSN: for each stage, its time after the route handler was entered, per write. */
    static final class Timeline {
        record Row(String stage, double p50, double p90, double step) {}

        /** Per write: stage -> nanoseconds after the handler was entered. */
        final List<Map<String, Long>> writesAt = new ArrayList<>();
        final Map<String, List<Long>> offsets = new LinkedHashMap<>();
        int writes, incomplete;
        Client client;

        /** The primary's recorded events, and the secondary's (of which only its applies count), of the writes that reached their route handler at or after {@code sinceNanos}. */
        static Timeline of(List<RecordedEvent> primary, List<RecordedEvent> secondary, long sinceNanos) {
            Map<String, TreeMap<Long, RecordedEvent>> byLsn = new HashMap<>();
            List<RecordedEvent> events = new ArrayList<>(primary.stream().filter(e -> !e.getEventType().getName().equals("tandem.Apply")).toList());
            events.addAll(secondary.stream().filter(e -> e.getEventType().getName().equals("tandem.Apply")).toList());
            events.sort(java.util.Comparator.comparing(RecordedEvent::getStartTime));
            for (RecordedEvent e : events) {
                String type = e.getEventType().getName();
                String key = e.hasField("lsn") ? "lsn" : "firstLsn";
                byLsn.computeIfAbsent(type, k -> new TreeMap<>()).putIfAbsent(e.getLong(key), e); // the first one: a resend comes later
            }
            Timeline t = new Timeline();
            boolean pair = byLsn.containsKey("tandem.Apply");
            for (RecordedEvent req : byLsn.getOrDefault("tandem.WriteRequest", new TreeMap<>()).values()) {
                long lsn = req.getLong("lsn"), in = req.getLong("inNanos");
                if (in - sinceNanos < 0) continue; // a warm-up write
                RecordedEvent route = byLsn.getOrDefault("tandem.Route", new TreeMap<>()).get(lsn);
                RecordedEvent commit = byLsn.getOrDefault("tandem.Commit", new TreeMap<>()).get(lsn);
                RecordedEvent ship = covering(byLsn.get("tandem.Ship"), lsn), apply = covering(byLsn.get("tandem.Apply"), lsn);
                var acks = byLsn.get("tandem.Ack");
                RecordedEvent ack = acks == null || acks.ceilingEntry(lsn) == null ? null : acks.ceilingEntry(lsn).getValue();
                if (route == null || commit == null || (pair && (ship == null || apply == null || ack == null))) {
                    t.incomplete++;
                    continue;
                }
                t.writes++;
                Map<String, Long> at = new LinkedHashMap<>();
                at.put("Python route started (workflow thread)", route.getLong("startNanos"));
                at.put("commit started", commit.getLong("startNanos"));
                at.put("H2 commit done (primary)", commit.getLong("committedNanos"));
                if (pair) {
                    // a send can return after the other side received it (the sender descheduled): "returned" stamps
                    // are no order marks; the stamp before each hand-over is
                    at.put("ship started (encode + send)", ship.getLong("startNanos"));
                    at.put("ship's send returned", ship.getLong("sentNanos"));
                    at.put("commit listeners returned", commit.getLong("endNanos"));
                    at.put("secondary received it", apply.getLong("receivedNanos"));
                    at.put("secondary apply started", apply.getLong("startNanos"));
                    at.put("secondary applied and committed", apply.getLong("appliedNanos"));
                    at.put("secondary's ack send returned", apply.getLong("ackedNanos"));
                    at.put("primary received the ack", ack.getLong("receivedNanos"));
                    at.put("ack handled: write released", ack.getLong("handledNanos"));
                } else {
                    at.put("commit listeners returned", commit.getLong("endNanos"));
                }
                at.put("Python route returned", route.getLong("endNanos"));
                at.put("HTTP side has the route's answer", req.getLong("routedNanos"));
                if (req.getLong("durableNanos") != 0) at.put("HTTP side has durable", req.getLong("durableNanos"));
                at.put("answer written", req.getLong("outNanos"));
                at.replaceAll((stage, nanos) -> nanos - in);
                t.writesAt.add(at);
                at.forEach((stage, nanos) -> t.offsets.computeIfAbsent(stage, k -> new ArrayList<>()).add(nanos));
            }
            return t;
        }

        private static RecordedEvent covering(TreeMap<Long, RecordedEvent> byFirst, long lsn) {
            if (byFirst == null) return null;
            var e = byFirst.floorEntry(lsn);
            return e != null && e.getValue().getLong("lastLsn") >= lsn ? e.getValue() : null;
        }

        /** Stages in the order of their median time; a step is the median of the per-write differences to the row before. */
        List<Row> rows() {
            List<String> stages = new ArrayList<>(offsets.keySet());
            stages.sort((a, b) -> Double.compare(percentile(offsets.get(a), 50), percentile(offsets.get(b), 50)));
            List<Row> out = new ArrayList<>();
            String before = null;
            for (String s : stages) {
                List<Long> d = new ArrayList<>();
                for (Map<String, Long> w : writesAt) {
                    if (w.containsKey(s) && (before == null || w.containsKey(before))) d.add(w.get(s) - (before == null ? 0 : w.get(before)));
                }
                double step = percentile(d, 50);
                out.add(new Row(s, percentile(offsets.get(s), 50), percentile(offsets.get(s), 90), step));
                before = s;
            }
            return out;
        }

        String render(String setup) {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("%s: %d writes traced (%d without every stage); client (%s): %.0f writes/s, p50 %.2f ms, p99 %.2f ms%n", setup,
                    writes, incomplete, client == null ? "none" : client.tool(), client == null ? 0 : client.perSecond(),
                    client == null ? 0 : client.p50Ms(), client == null ? 0 : client.p99Ms()));
            sb.append(String.format("  %-42s %12s %12s %12s%n", "stage (after the route handler was entered)", "p50 us", "p90 us", "step us"));
            for (Row r : rows()) sb.append(String.format("  %-42s %12.0f %12.0f %12.0f%n", r.stage(), r.p50(), r.p90(), r.step()));
            return sb.toString();
        }

        /** Nearest rank, in microseconds. */
        static double percentile(List<Long> nanos, double p) {
            if (nanos.isEmpty()) return Double.NaN;
            long[] s = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            int i = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100.0 * s.length) - 1));
            return s[i] / 1000.0;
        }
    }
}
