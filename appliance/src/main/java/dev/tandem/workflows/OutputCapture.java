package dev.tandem.workflows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A workflow's stdout and stderr: while a hook runs on this thread its output is kept (bounded) for the
 * event log; otherwise it goes to the node's own output.
 */
final class OutputCapture extends OutputStream {
    static final int LIMIT = 4096;
    private static final ThreadLocal<ByteArrayOutputStream> CURRENT = new ThreadLocal<>();
    private final PrintStream fallback;

    OutputCapture(PrintStream fallback) {
        this.fallback = fallback;
    }

    static void begin() {
        CURRENT.set(new ByteArrayOutputStream());
    }

    /** What the current hook printed (at most {@link #LIMIT} bytes), and stop capturing. */
    static String end() {
        ByteArrayOutputStream b = CURRENT.get();
        CURRENT.remove();
        return b == null ? "" : b.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void write(int b) {
        ByteArrayOutputStream cur = CURRENT.get();
        if (cur == null) fallback.write(b);
        else if (cur.size() < LIMIT) cur.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        ByteArrayOutputStream cur = CURRENT.get();
        if (cur == null) {
            fallback.write(b, off, len);
        } else if (cur.size() < LIMIT) {
            cur.write(b, off, Math.min(len, LIMIT - cur.size()));
        }
    }

    @Override
    public void flush() throws IOException {
        fallback.flush();
    }
}
