package dev.tandem.harness;

import dev.tandem.testing.Await;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real tandem node in its own JVM, started the way bin/tandem starts it, with its output in
 * {@code dir/node.log}. Faults are real signals to its PID: {@link #kill9()}, {@link #stop()}
 * (SIGSTOP), {@link #cont()}.
 */
public final class NodeProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    public final String name;
    public final Path dir;
    public final int httpPort;
    /** The address it serves HTTP on: loopback, or its own in a network namespace ({@link NetNamespaces}). */
    public final String host;
    /** A command prefix it is started with (e.g. ip netns exec NS); empty for none. */
    private final List<String> launcher;
    private final Path config;
    /** Extra JVM options for this node (e.g. -Dtandem.faults=true). */
    public final List<String> jvmFlags = new ArrayList<>();
    private Process process;
    private volatile boolean frozen;

    public NodeProcess(String name, Path dir, int httpPort, String configYaml) throws IOException {
        this(name, dir, "127.0.0.1", httpPort, List.of(), configYaml);
    }

    public NodeProcess(String name, Path dir, String host, int httpPort, List<String> launcher, String configYaml) throws IOException {
        this.name = name;
        this.dir = dir;
        this.host = host;
        this.httpPort = httpPort;
        this.launcher = List.copyOf(launcher);
        Files.createDirectories(dir);
        this.config = dir.resolve("tandem.yaml");
        Files.writeString(config, configYaml);
    }

    /** The group's admin token, as this node wrote it to its data_dir (the CLI's credential); empty before the node wrote it. */
    public String adminToken() {
        try {
            return Files.readString(dir.resolve("data").resolve(dev.tandem.node.AdminToken.FILE)).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** The checkout's root: where bin/tandem is. */
    public static Path home() {
        String configured = System.getProperty("tandem.home");
        Path p = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("bin/tandem"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("cannot find the tandem checkout (bin/tandem); set -Dtandem.home");
        return p;
    }

    public static Path secret(Path dir) throws IOException {
        return dev.tandem.testing.TestNode.secret(dir);
    }

    public NodeProcess start() throws IOException {
        Path home = home();
        Path jar = home.resolve("appliance/target/tandem-appliance.jar");
        if (!Files.isRegularFile(jar)) throw new IllegalStateException(jar + " is missing: build first (mvn -DskipTests package)");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(launcher);
        cmd.add(java);
        boolean witness = name.equals("witness");
        cmd.addAll(witness ? dev.tandem.node.JvmOptions.WITNESS : dev.tandem.node.JvmOptions.DATA);
        // e.g. a logging config or another collector, for a benchmark run; the witness keeps its own collector
        String flags = System.getProperty("tandem.node.jvmFlags", "").strip();
        List<String> extra = new ArrayList<>(flags.isEmpty() ? List.of() : List.of(flags.split("\\s+")));
        if (witness) extra.removeIf(NodeProcess::selectsCollector);
        else if (extra.stream().noneMatch(NodeProcess::selectsCollector)) cmd.add("-XX:+Use" + collector() + "GC");
        cmd.addAll(jvmFlags);
        cmd.addAll(extra);
        cmd.addAll(List.of(
                "-Dpolyglot.engine.WarnInterpreterOnly=false", "-Dpolyglotimpl.AttachLibraryFailureAction=ignore",
                "-Dpolyglot.engine.userResourceCache=" + home.resolve("ha-tests/target/polyglot-cache"),
                "-Dtandem.home=" + home,
                "-cp", jar + ":" + home.resolve("appliance/target/lib") + "/*",
                "dev.tandem.cli.TandemCli", "run", "--config", config.toString()));
        frozen = false;
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node.log").toFile())).start();
        return this;
    }

    /**
     * The data nodes' collector: {@code -Dtandem.node.gc}, else Serial. Tests keep Serial (one GC thread: a test runs
     * three or more node JVMs on 2 cores); bin/tandem-bench passes G1, what the package's JVM picks on a machine of 2
     * cores and 2 GB or more, so benchmark figures are the package's. On warm nodes, pair at 8 connections, p99:
     * Serial 22.9-24.1 ms, G1 17.9 ms, Parallel 18.4-18.5 ms, at the same throughput (2026-12-04).
     */
    static String collector() {
        String gc = System.getProperty("tandem.node.gc", "Serial").strip();
        if (!gc.matches("Serial|Parallel|G1|Z|Shenandoah")) {
            throw new IllegalArgumentException("tandem.node.gc=" + gc + ": use Serial, Parallel, G1, Z or Shenandoah");
        }
        return gc;
    }

    /** True for a JVM flag that picks the garbage collector ({@code -XX:+UseParallelGC} and the like). */
    static boolean selectsCollector(String flag) {
        return flag.matches("-XX:\\+Use\\w+GC");
    }

    public long pid() {
        return process.pid();
    }

    /** The process's exit code once it has ended; null while it runs (or before it started). */
    public Integer exitCode() {
        return process == null || process.isAlive() ? null : process.exitValue();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public String url() {
        return "http://" + host + ":" + httpPort;
    }

    /** The status code of GET path, or -1 when nothing answers within the timeout. */
    public int status(String path, Duration timeout) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url() + path)).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Waits (polling) until GET path answers 200, or fails with the tail of the node's log. */
    public NodeProcess awaitStatus200(String path, Duration deadline) {
        String log = "\n--- " + dir.resolve("node.log") + " (tail) ---\n";
        Await.until(name + ": " + path + " answering 200", deadline, () -> {
            if (status(path, Duration.ofMillis(500)) == 200) return true;
            if (!alive()) throw new AssertionError(name + ": the process exited before " + path + " answered 200" + log + logTail(40));
            return false;
        }, () -> log + logTail(40));
        return this;
    }

    /** How long its log is now: a mark for {@link #logSince}. */
    public long logLength() {
        try {
            return Files.size(dir.resolve("node.log"));
        } catch (IOException e) {
            return 0;
        }
    }

    /** What it logged after {@code mark} (from {@link #logLength}). */
    public String logSince(long mark) {
        try (var in = Files.newInputStream(dir.resolve("node.log"))) {
            in.skipNBytes(Math.min(mark, Files.size(dir.resolve("node.log"))));
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(dir.resolve("node.log"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Resident memory in MiB, from /proc. */
    public long rssMiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
        }
        return -1;
    }

    /** SIGKILL, sent straight from this JVM (Process.destroyForcibly): no kill(1) to start first, so timings start at the signal. */
    public void kill9() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * SIGSTOP, then waits until every thread of the process is in the stopped state: {@code kill} returns
     * once the signal is queued, and each thread stops only when it next leaves the kernel.
     */
    public void stop() {
        signal("STOP");
        frozen = true;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!allThreadsStopped()) {
            if (System.nanoTime() > end) { // a sandboxed /proc may not show the state: say so, and go on
                System.err.println("warning: " + name + " (pid " + pid() + ") does not show all threads stopped 5 s after SIGSTOP");
                return;
            }
            pause(1);
        }
    }

    public void cont() {
        signal("CONT");
        frozen = false;
    }

    /** True between {@link #stop()} and {@link #cont()}: the process cannot answer. */
    public boolean frozen() {
        return frozen && alive();
    }

    private boolean allThreadsStopped() {
        try (var tasks = Files.list(Path.of("/proc/" + pid() + "/task"))) {
            return tasks.allMatch(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    char state = stat.charAt(stat.lastIndexOf(')') + 2); // "pid (comm) S ..."
                    return state == 'T' || state == 't' || state == 'Z' || state == 'X';
                } catch (IOException gone) {
                    return true; // the thread exited
                }
            });
        } catch (IOException e) {
            return !alive();
        }
    }

    private void signal(String sig) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(pid())).inheritIO().start();
            if (kill.waitFor() != 0) throw new IllegalStateException("kill -" + sig + " " + pid() + " failed");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static void pause(long ms) {
        try {
            Thread.sleep(ms); // polling interval of a wait-with-deadline, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM, then waits up to {@code deadline} for the process to exit; returns the milliseconds it took, or -1. */
    public long terminate(Duration deadline) {
        long t0 = System.nanoTime();
        process.destroy();
        try {
            if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Stops the node: SIGTERM (clean shutdown), SIGKILL if it does not exit in time. */
    @Override
    public void close() {
        if (process == null || !process.isAlive()) return;
        cont();
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.toHandle().destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static int freePort() throws IOException {
        return dev.tandem.testing.Ports.free();
    }
}
