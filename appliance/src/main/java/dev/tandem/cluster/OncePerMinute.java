package dev.tandem.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Says whether a kind of log line may be written now: once per key per minute, so a peer that sends
 * garbage (or a bug that repeats) is reported, not allowed to flood the log. Each key counts the lines
 * it held back, for the next line that passes to say. Bounded in keys.
 */
public final class OncePerMinute {
    static final long PERIOD_MS = 60_000;

    private static final class Window {
        final AtomicLong passedAt = new AtomicLong(Long.MIN_VALUE / 2);
        final AtomicLong held = new AtomicLong();
    }

    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    /**
     * -1 when a line for {@code key} must be held back now (it is counted); otherwise the line may be
     * logged, and the answer is how many lines for that key were held back since the last one passed.
     */
    public long admit(String key) {
        if (windows.size() > 1000) windows.clear();
        Window w = windows.computeIfAbsent(key, k -> new Window());
        long now = System.currentTimeMillis(), prev = w.passedAt.get();
        if (now - prev < PERIOD_MS || !w.passedAt.compareAndSet(prev, now)) {
            w.held.incrementAndGet();
            return -1;
        }
        return w.held.getAndSet(0);
    }

    /** True when a line for {@code key} may be logged now; false (and counted) otherwise. */
    public boolean allow(String key) {
        return admit(key) >= 0;
    }
}
