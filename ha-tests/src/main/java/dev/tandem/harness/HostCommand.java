package dev.tandem.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command of the machine's own (mount, ip, apt-get, initdb, wrk, jcmd...) with a deadline: what the loop
 * disks, the namespaces and the benchmarks' peers are made with. Its output is read while it runs, so a command
 * that says much cannot fill the pipe and hang.
 */
public final class HostCommand {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    /** How a command ended: its exit code and what it said (stdout and stderr). */
    public record Result(int code, String text) {}

    private HostCommand() {}

    /** Runs it; fails with its exit code and what it said unless it succeeds. */
    public static void run(String... cmd) throws IOException, InterruptedException {
        output(cmd);
    }

    /** Runs it (60 s at most) and returns what it said, stripped; fails with its exit code and that unless it succeeds. */
    public static String output(String... cmd) throws IOException, InterruptedException {
        return check(List.of(cmd), DEADLINE).strip();
    }

    /** Runs it within {@code deadline} and returns what it said; fails with its exit code and that unless it succeeds. */
    public static String check(List<String> cmd, Duration deadline) throws IOException, InterruptedException {
        Result r = result(cmd, deadline);
        if (r.code() != 0) throw new IOException(String.join(" ", cmd) + " failed (exit " + r.code() + "): " + r.text().strip());
        return r.text();
    }

    /** Runs it within {@code deadline}; its exit code and output, whatever the code. Fails only when it does not end in time. */
    public static Result result(List<String> cmd, Duration deadline) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(text);
            } catch (IOException ignored) {
                // the process ended
            }
        }, "host-command-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": no end within " + deadline.toSeconds() + " s");
        }
        reader.join(5000);
        return new Result(p.exitValue(), text.toString());
    }

    /** Runs it, output discarded; its exit code, or -1 when it did not end in time. */
    public static int exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
