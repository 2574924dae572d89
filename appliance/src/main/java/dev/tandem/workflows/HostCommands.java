package dev.tandem.workflows;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host programs an operator allowed workflows to run ({@code workflows.commands}, SPEC G6):
 * each is a fixed argument vector, run without a shell, with no input, a small fixed environment,
 * a bounded time and bounded captured output. A workflow names a command; it cannot change its
 * arguments, so what can happen on the host is exactly what the configuration says.
 */
public final class HostCommands {
    private static final Logger log = LoggerFactory.getLogger(HostCommands.class);
    /** Output kept per stream; the rest is cut (the process still runs to its end). */
    static final int OUTPUT_LIMIT = 16 * 1024;
    public static final HostCommands NONE = new HostCommands(Map.of(), Duration.ofSeconds(10), Map.of(), r -> {});

    private final Map<String, List<String>> commands;
    private final Duration maxTimeout;
    private final Map<String, String> environment;
    private final Consumer<JsonObject> onRun;

    /**
     * @param maxTimeout  the longest a command may run (the hook timeout: a hook waiting on a command is bounded anyway)
     * @param environment variables given to every command besides PATH and LANG (e.g. TANDEM_NODE)
     * @param onRun       told about every run (the node puts it in the event log)
     */
    public HostCommands(Map<String, List<String>> commands, Duration maxTimeout, Map<String, String> environment,
                        Consumer<JsonObject> onRun) {
        this.commands = Map.copyOf(commands);
        this.maxTimeout = maxTimeout;
        this.environment = Map.copyOf(environment);
        this.onRun = onRun;
    }

    public List<String> names() {
        return commands.keySet().stream().sorted().toList();
    }

    /** What one run gave. {@code returncode} is -1 when the command was stopped at its timeout or could not start. */
    public record Result(String name, int returncode, String stdout, String stderr, boolean timedOut, long millis) {
        JsonObject json() {
            return new JsonObject().put("command", name).put("returncode", returncode).put("stdout", stdout).put("stderr", stderr)
                    .put("timed_out", timedOut).put("duration_ms", millis);
        }
    }

    /** Thrown when a workflow names a command the configuration does not list. */
    public static final class NotAllowedException extends RuntimeException {
        NotAllowedException(String message) {
            super(message);
        }
    }

    /** Runs command {@code name} for {@code workflow}; blocks until it ends or {@code timeout} (capped) passes. */
    public Result run(String workflow, String name, Duration timeout) {
        List<String> argv = commands.get(name);
        if (argv == null) {
            throw new NotAllowedException("command '" + name + "' is not configured on this node"
                    + (commands.isEmpty() ? " (none is)" : " (configured: " + String.join(", ", names()) + ")")
                    + "; an operator allows it in tandem.yaml under workflows.commands." + name + ": [/absolute/program, args...]");
        }
        Duration limit = timeout.isNegative() || timeout.isZero() || timeout.compareTo(maxTimeout) > 0 ? maxTimeout : timeout;
        long t0 = System.nanoTime();
        Result result;
        Path out = null, err = null;
        try {
            out = Files.createTempFile("tandem-cmd", ".out");
            err = Files.createTempFile("tandem-cmd", ".err");
            ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            pb.environment().put("LANG", "C.UTF-8");
            pb.environment().putAll(environment);
            pb.environment().put("TANDEM_WORKFLOW", workflow);
            Process p = pb.start();
            boolean ended;
            try {
                ended = p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ended = false;
            }
            if (!ended) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.onExit().get(5, TimeUnit.SECONDS);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            result = new Result(name, ended ? p.exitValue() : -1, head(out), head(err) + (ended ? ""
                    : (Files.size(err) > 0 ? "\n" : "") + "stopped after " + limit.toMillis() + " ms"), !ended, ms);
        } catch (Exception e) {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            result = new Result(name, -1, "", "could not run " + argv.get(0) + ": " + e.getMessage(), false, ms);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
        log.info("workflow {} ran command {} {}: exit {} in {} ms{}", workflow, name, argv, result.returncode(), result.millis(),
                result.returncode() == 0 ? "" : ": " + result.stderr().strip());
        onRun.accept(result.json().put("workflow", workflow));
        return result;
    }

    private static String head(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(OUTPUT_LIMIT + 1);
            String s = new String(b, 0, Math.min(b.length, OUTPUT_LIMIT), StandardCharsets.UTF_8);
            return b.length > OUTPUT_LIMIT ? s + "\n[output cut at " + OUTPUT_LIMIT + " bytes]" : s;
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.debug("cannot delete {}: {}", p, e.getMessage());
        }
    }
}
