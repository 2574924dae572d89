package dev.tandem.harness;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Runs a command of the machine's own (mount, ip, ...) with a deadline: what the loop disks and the namespaces are made with. */
final class HostCommand {
    private static final long DEADLINE_S = 60;

    private HostCommand() {}

    /** Runs it; fails with its exit code and what it said unless it succeeds. */
    static void run(String... cmd) throws IOException, InterruptedException {
        output(cmd);
    }

    /** Runs it and returns what it said (stdout and stderr); fails with its exit code and that unless it succeeds. */
    static String output(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(DEADLINE_S, TimeUnit.SECONDS)) { // these commands say little: their output fits in the pipe meanwhile
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": no answer within " + DEADLINE_S + " s");
        }
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + out);
        return out;
    }

    /** Runs it, output discarded; its exit code, or -1 when it did not end in time. */
    static int exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(DEADLINE_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
