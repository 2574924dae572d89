package dev.tandem.bench;

import dev.tandem.harness.HostCommand;
import dev.tandem.harness.JitActivity;
import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark (a program, not a test): tandem side by side with what a user would build instead, on this
 * machine, under the same load. The peer is Flask under gunicorn with psycopg2 ({@code ha-tests/src/main/peer}),
 * and PostgreSQL with a synchronous streaming standby ({@code synchronous_commit=on}: a commit waits for the
 * standby's flush), all from Debian packages, on loopback. Both serve the ipam allocation route with the same
 * semantics. The load generator is wrk ({@code -t2 -cN --latency}, a Lua script that POSTs allocations to a
 * fresh pool). For each tandem setup, tandem and the peer run back to back at each number of connections.
 *
 * <p>Setups: {@code single} (one tandem node; the peer's commits with {@code synchronous_commit=local}),
 * {@code pair} (tandem's pair + witness, sync replication, defaults) and {@code pair-fsync} (the same with
 * {@code replication.fsync: true}, as the peer fsyncs every commit on both servers). The packages are
 * installed with apt when missing (as root).
 *
 * <p>Each tandem setup first runs load until its nodes' JIT compilers are quiet ({@link JitActivity#warmUp}, at most
 * {@code --jit-warmup} seconds; 0 measures nodes just started): the figures are the running appliance's, not its first minute's.
 *
 * <pre>bin/tandem-bench peer [--setups single,pair,pair-fsync] [--clients 1,8,32] [--seconds 10] [--warmup 5] [--rounds 1] [--jit-warmup 180]</pre>
 */
public final class PeerBench {
    public static final List<String> PACKAGES = List.of("postgresql", "python3-flask", "gunicorn", "python3-psycopg2", "wrk");

    private PeerBench() {}

    public static void main(String[] args) throws Exception {
        List<String> setups = List.of("single", "pair", "pair-fsync");
        List<Integer> clients = List.of(1, 8, 32);
        int seconds = 10, warmup = 5, rounds = 1, jitWarmup = 180;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) usage(args[i] + " needs a value");
            switch (args[i]) {
                case "--setups" -> setups = List.of(v.split(","));
                case "--clients" -> clients = IpamBench.parseList(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--jit-warmup" -> jitWarmup = Integer.parseInt(v);
                default -> usage("unknown option " + args[i]);
            }
            i++;
        }
        for (String s : setups) if (!List.of("single", "pair", "pair-fsync").contains(s)) usage("unknown setup " + s);
        ensurePackages();
        Path dir = Files.createTempDirectory("tandem-peer-");
        try (Peer peer = Peer.start(dir.resolve("peer"))) {
            System.out.printf("ipam allocations, tandem vs Flask + gunicorn + psycopg2 + PostgreSQL %s (sync standby), wrk -t2 -cN --latency;%n"
                    + "%s, %d cores; warm-up %d s, then %d s per run; %d round(s)%n", peer.version, Runtime.version(),
                    Runtime.getRuntime().availableProcessors(), warmup, seconds, rounds);
            System.out.printf("%-11s %5s | %9s %8s %8s %6s | %9s %8s %8s %6s | %6s%n", "setup", "conns", "tandem/s", "p50 ms", "p99 ms", "errors",
                    "peer/s", "p50 ms", "p99 ms", "errors", "ratio");
            int pool = 0;
            for (String setup : setups) {
                try (Tandem t = Tandem.start(dir.resolve(setup), setup)) {
                    if (jitWarmup > 0) System.out.println(setup + ": " + t.warmUp(Duration.ofSeconds(jitWarmup)).describe());
                    String peerUrl = setup.equals("single") ? peer.singleUrl : peer.pairUrl;
                    for (int r = 0; r < rounds; r++) {
                        for (int c : clients) {
                            Wrk.Result tr = measure(t.url, "t" + (++pool), c, warmup, seconds);
                            Wrk.Result pr = measure(peerUrl, "p" + pool, c, warmup, seconds);
                            peer.checkNoAddressTwice("p" + pool);
                            System.out.printf(Locale.ROOT, "%-11s %5d | %9.0f %8.2f %8.2f %6d | %9.0f %8.2f %8.2f %6d | %5.2fx%n", setup, c,
                                    tr.perSecond(), tr.p50Ms(), tr.p99Ms(), tr.errors(), pr.perSecond(), pr.p50Ms(), pr.p99Ms(), pr.errors(),
                                    tr.perSecond() / Math.max(1e-9, pr.perSecond()));
                            String cmd = "bin/tandem-bench peer --setups " + setup + " --clients " + c + " --seconds " + seconds;
                            Figures.value("peer", setup + ", " + c + " conns: tandem writes/s", "writes/s", tr.perSecond(), cmd);
                            Figures.value("peer", setup + ", " + c + " conns: peer writes/s", "writes/s", pr.perSecond(), cmd);
                            Figures.value("peer", setup + ", " + c + " conns: tandem / peer", "x", tr.perSecond() / Math.max(1e-9, pr.perSecond()), cmd);
                        }
                    }
                }
            }
        } finally {
            CampaignBench.deleteTree(dir);
        }
    }

    private static void usage(String why) {
        System.err.println(why + "; usage: bin/tandem-bench peer [--setups single,pair,pair-fsync] [--clients 1,8,32] [--seconds 10] [--warmup 5] [--rounds 1] [--jit-warmup 180]");
        System.exit(2);
    }

    /** A fresh /8 pool at {@code base}, a warm-up run, then the measured run (same pool). */
    private static Wrk.Result measure(String base, String pool, int conns, int warmup, int seconds) throws Exception {
        IpamBench.post(base + "/workflows/ipam/pools", "{\"name\": \"" + pool + "\", \"cidr\": \"10.0.0.0/8\"}");
        String url = base + "/workflows/ipam/pools/" + pool + "/allocations";
        if (warmup > 0) Wrk.run(url, conns, warmup);
        return Wrk.run(url, conns, seconds);
    }

    /** The peer's packages, installed with apt when one is missing (as root); otherwise a clear refusal. */
    static void ensurePackages() throws Exception {
        List<String> missing = missingPackages();
        if (missing.isEmpty()) return;
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("the peer needs Debian packages that are missing: " + String.join(" ", missing)
                    + "; install them (sudo apt-get install -y " + String.join(" ", missing) + ") or run this as root");
        }
        System.out.println("installing the peer's packages: " + String.join(" ", missing));
        List<String> install = new ArrayList<>(List.of("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "--no-install-recommends"));
        install.addAll(PACKAGES);
        if (HostCommand.result(install, Duration.ofMinutes(15)).code() != 0) { // a fresh machine may have no package lists yet
            HostCommand.check(List.of("apt-get", "update", "-qq"), Duration.ofMinutes(10));
            HostCommand.check(install, Duration.ofMinutes(15));
        }
    }

    /** Which of {@link #PACKAGES} this machine lacks (as Debian package names). */
    public static List<String> missingPackages() throws Exception {
        List<String> missing = new ArrayList<>();
        if (Peer.pgBin() == null) missing.add("postgresql");
        if (!Files.isExecutable(Path.of("/usr/bin/gunicorn"))) missing.add("gunicorn");
        if (!Files.isExecutable(Path.of("/usr/bin/wrk"))) missing.add("wrk");
        if (HostCommand.result(List.of("/usr/bin/python3", "-c", "import flask"), Duration.ofSeconds(30)).code() != 0) missing.add("python3-flask");
        if (HostCommand.result(List.of("/usr/bin/python3", "-c", "import psycopg2"), Duration.ofSeconds(30)).code() != 0) missing.add("python3-psycopg2");
        return missing;
    }

    /** One tandem target: one node, or the pair + witness, serving only the ipam workflow. */
    private record Tandem(String url, AutoCloseable all, List<NodeProcess> data) implements AutoCloseable {
        static Tandem start(Path dir, String setup) throws Exception {
            Files.createDirectories(dir);
            Path workflows = Files.createDirectories(dir.resolve("workflows/ipam"));
            Files.copy(NodeProcess.home().resolve("sample-workflows/ipam/workflow.py"), workflows.resolve("workflow.py"));
            if (setup.equals("single")) {
                int port = NodeProcess.freePort(), groupPort = NodeProcess.freePort();
                String yaml = """
                        node: {name: node-a, data_dir: %s}
                        group: {bind: "127.0.0.1:%d", members: ["127.0.0.1:%d"], secret_file: %s}
                        http: {bind: "127.0.0.1:%d"}
                        workflows: {dir: %s}
                        """.formatted(dir.resolve("data"), groupPort, groupPort, NodeProcess.secret(dir), port, workflows.getParent());
                NodeProcess n = new NodeProcess("node-a", dir, port, yaml).start();
                n.awaitStatus200("/health/primary", Duration.ofSeconds(180));
                return new Tandem(n.url(), n, List.of(n));
            }
            ProcessGroup g = ProcessGroup.start(dir, workflows.getParent(),
                    "replication: {mode: sync" + (setup.equals("pair-fsync") ? ", fsync: true}" : "}"));
            NodeProcess p = g.awaitPrimary(Duration.ofSeconds(180));
            ProcessGroup.awaitInSync(g.other(p), Duration.ofSeconds(120));
            return new Tandem(p.url(), g, List.of(p, g.other(p)));
        }

        /** 5 s rounds of wrk -c8 on a pool of their own until the data nodes' JIT compilers are quiet (or {@code max} passed). */
        JitActivity.Warmup warmUp(Duration max) throws Exception {
            IpamBench.post(url + "/workflows/ipam/pools", "{\"name\": \"warmup\", \"cidr\": \"10.0.0.0/8\"}");
            String alloc = url + "/workflows/ipam/pools/warmup/allocations";
            return JitActivity.warmUp(data, () -> Wrk.run(alloc, 8, 5), max);
        }

        @Override
        public void close() throws Exception {
            all.close();
        }
    }

    /** PostgreSQL primary + sync standby, and two gunicorns: commits that wait for the standby, and commits that do not. */
    static final class Peer implements AutoCloseable {
        String singleUrl, pairUrl, version;
        private final Path dir, bin;
        private final boolean root = "root".equals(System.getProperty("user.name"));
        private int primaryPort;
        private final List<Process> servers = new ArrayList<>();
        private final List<Path> clusters = new ArrayList<>();

        private Peer(Path dir, Path bin) {
            this.dir = dir;
            this.bin = bin;
        }

        /** The newest /usr/lib/postgresql/N/bin with initdb, or null. */
        static Path pgBin() throws IOException {
            Path root = Path.of("/usr/lib/postgresql");
            if (!Files.isDirectory(root)) return null;
            try (var versions = Files.list(root)) {
                return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                        .max(Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0")))).orElse(null);
            }
        }

        static Peer start(Path dir) throws Exception {
            Files.createDirectories(dir);
            Peer peer = new Peer(dir, pgBin());
            try {
                peer.setUp();
                return peer;
            } catch (Exception | Error e) {
                peer.close();
                throw e;
            }
        }

        private void setUp() throws Exception {
            if (root) {
                // PostgreSQL runs as postgres: it must get through the benchmark's temporary folder (the user's alone) to its own
                Files.setPosixFilePermissions(dir.getParent(), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                HostCommand.check(List.of("chown", "postgres:postgres", dir.toString()), Duration.ofSeconds(10));
            }
            primaryPort = NodeProcess.freePort();
            int standbyPort = NodeProcess.freePort();
            Path primary = dir.resolve("primary"), standby = dir.resolve("standby");
            HostCommand.check(pg(bin.resolve("initdb").toString(), "-D", primary.toString(), "--auth=trust", "-U", "postgres", "--no-sync"), Duration.ofMinutes(2));
            Files.writeString(primary.resolve("postgresql.conf"), """

                    # bin/tandem-bench peer: a primary that waits for its standby's flush on every commit
                    listen_addresses = '127.0.0.1'
                    synchronous_standby_names = 'standby'
                    synchronous_commit = on
                    fsync = on
                    wal_level = replica
                    max_wal_senders = 4
                    """, java.nio.file.StandardOpenOption.APPEND);
            startCluster(primary, primaryPort);
            HostCommand.check(pg(bin.resolve("pg_basebackup").toString(), "-h", "127.0.0.1", "-p", Integer.toString(primaryPort), "-U", "postgres",
                    "-D", standby.toString(), "-R"), Duration.ofMinutes(2));
            // pg_basebackup -R names no application: the primary's synchronous_standby_names needs one
            Files.writeString(standby.resolve("postgresql.auto.conf"),
                    "\nprimary_conninfo = 'host=127.0.0.1 port=" + primaryPort + " user=postgres application_name=standby'\n",
                    java.nio.file.StandardOpenOption.APPEND);
            startCluster(standby, standbyPort);
            dev.tandem.testing.Await.until("the standby streaming as the synchronous standby", Duration.ofSeconds(60),
                    () -> "sync".equals(psql("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")));
            psql(Files.readString(NodeProcess.home().resolve("ha-tests/src/main/peer/schema.sql")));
            version = psql("SHOW server_version").split(" ")[0];
            int single = NodeProcess.freePort(), pair = NodeProcess.freePort();
            gunicorn(single, "local");
            gunicorn(pair, "on");
            singleUrl = "http://127.0.0.1:" + single;
            pairUrl = "http://127.0.0.1:" + pair;
            for (String url : List.of(singleUrl, pairUrl)) {
                dev.tandem.testing.Await.until("gunicorn answering at " + url, Duration.ofSeconds(60), () -> answers(url));
            }
        }

        private static boolean answers(String url) {
            try {
                var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/workflows/ipam/pools/none/allocations"))
                        .timeout(Duration.ofSeconds(2)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        }

        private List<String> pg(String... cmd) {
            List<String> all = new ArrayList<>();
            if (root) all.addAll(List.of("runuser", "-u", "postgres", "--"));
            all.addAll(List.of(cmd));
            return all;
        }

        private void startCluster(Path data, int port) throws Exception {
            HostCommand.check(pg(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", data + ".log", "-w", "-t", "120",
                    "-o", "-p " + port + " -k " + dir, "start"), Duration.ofMinutes(3));
            clusters.add(data);
        }

        private void gunicorn(int port, String sync) throws IOException {
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/gunicorn", "--chdir", NodeProcess.home().resolve("ha-tests/src/main/peer").toString(),
                    "--workers", Integer.toString(2 * Runtime.getRuntime().availableProcessors() + 1), "--bind", "127.0.0.1:" + port,
                    "--log-level", "warning", "ipam_peer:app").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("gunicorn-" + port + ".log").toFile()));
            pb.environment().put("PEER_DSN", "host=127.0.0.1 port=" + primaryPort + " dbname=postgres user=postgres");
            pb.environment().put("PEER_SYNC", sync);
            servers.add(pb.start());
        }

        String psql(String sql) {
            try {
                return HostCommand.check(List.of(bin.resolve("psql").toString(), "-h", "127.0.0.1", "-p", Integer.toString(primaryPort), "-U", "postgres",
                        "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql), Duration.ofSeconds(60)).strip();
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }

        /** The peer's table has a primary key over the address; this also reads the count back, as a check that it served. */
        void checkNoAddressTwice(String pool) {
            String[] r = psql("SELECT count(*), count(DISTINCT ip) FROM allocations WHERE pool = '" + pool + "'").split("\\|");
            if (!r[0].equals(r[1])) throw new AssertionError("the peer handed out an address twice in pool " + pool + ": " + r[0] + " vs " + r[1]);
        }

        @Override
        public void close() {
            for (Process p : servers) {
                p.destroy();
                try {
                    if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
            for (int i = clusters.size() - 1; i >= 0; i--) {
                try {
                    HostCommand.check(pg(bin.resolve("pg_ctl").toString(), "-D", clusters.get(i).toString(), "-m", "fast", "-w", "stop"), Duration.ofMinutes(1));
                } catch (Exception e) {
                    System.err.println("stopping PostgreSQL in " + clusters.get(i) + " failed: " + e.getMessage());
                }
            }
        }
    }

    /** wrk, and what it printed: requests/s, the 50th and 99th percentile, non-2xx answers and socket errors. */
    static final class Wrk {
        record Result(double perSecond, double p50Ms, double p99Ms, long errors) {}

        static Result run(String url, int conns, int seconds) throws Exception {
            Path script = NodeProcess.home().resolve("ha-tests/src/main/peer/alloc.lua");
            String out = HostCommand.check(List.of("/usr/bin/wrk", "-t" + Math.min(2, conns), "-c" + conns, "-d" + seconds + "s", "--latency",
                    "-s", script.toString(), url), Duration.ofSeconds(seconds + 60L));
            return parse(out);
        }

        static Result parse(String out) {
            double rps = number(out, "Requests/sec:\\s+([0-9.]+)");
            long errors = (long) numberOr(out, "Non-2xx or 3xx responses:\\s+(\\d+)", 0);
            Matcher s = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
            if (s.find()) for (int g = 1; g <= 4; g++) errors += Long.parseLong(s.group(g));
            return new Result(rps, millis(out, "50"), millis(out, "99"), errors);
        }

        private static double millis(String out, String pct) {
            Matcher m = Pattern.compile("(?m)^\\s+" + pct + "%\\s+([0-9.]+)(us|ms|s)\\s*$").matcher(out);
            if (!m.find()) throw new IllegalStateException("wrk printed no " + pct + "% latency:\n" + out);
            double v = Double.parseDouble(m.group(1));
            return switch (m.group(2)) {
                case "us" -> v / 1000;
                case "s" -> v * 1000;
                default -> v;
            };
        }

        private static double number(String out, String regex) {
            Matcher m = Pattern.compile(regex).matcher(out);
            if (!m.find()) throw new IllegalStateException("wrk printed no " + regex + ":\n" + out);
            return Double.parseDouble(m.group(1));
        }

        private static double numberOr(String out, String regex, double otherwise) {
            Matcher m = Pattern.compile(regex).matcher(out);
            return m.find() ? Double.parseDouble(m.group(1)) : otherwise;
        }
    }
}
