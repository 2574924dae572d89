package dev.tandem.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Says whether a kind of log line may be written now: once per key per minute, so a peer that sends
 * garbage (or a bug that repeats) is reported, not allowed to flood the log. Bounded in keys.
 */
public final class OncePerMinute {
    static final long PERIOD_MS = 60_000;
    private final Map<String, AtomicLong> last = new ConcurrentHashMap<>();
    private final AtomicLong held = new AtomicLong();

    /** True when a line for {@code key} may be logged now; false (and counted) otherwise. */
    public boolean allow(String key) {
        if (last.size() > 1000) last.clear();
        long now = System.currentTimeMillis();
        AtomicLong at = last.computeIfAbsent(key, k -> new AtomicLong(Long.MIN_VALUE / 2));
        long prev = at.get();
        if (now - prev >= PERIOD_MS && at.compareAndSet(prev, now)) return true;
        held.incrementAndGet();
        return false;
    }

    /** How many lines were held back since the last call. */
    public long takeHeld() {
        return held.getAndSet(0);
    }
}
