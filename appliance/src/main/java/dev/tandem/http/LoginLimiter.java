package dev.tandem.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Slows down password guessing: per user and per client address, a few attempts are free, then each
 * further attempt opens a wait that doubles (1 s, 2 s, 4 s, ... up to a minute) during which every
 * attempt, the right password included, is answered 429 with Retry-After. A success clears the user's
 * count; quiet for 15 minutes clears any count. Held in memory on each node (a secondary counts the
 * clients it forwards for, the primary counts again), bounded in size.
 */
final class LoginLimiter {
    static final int USER_FREE = 5, ADDRESS_FREE = 20;
    static final long MAX_WAIT_MS = 60_000, FORGET_MS = 15 * 60_000;
    private static final int MAX_ENTRIES = 10_000;

    private static final class Count {
        int attempts;
        long last, blockedUntil;
    }

    private final LongSupplier clock;
    private final Map<String, Count> counts = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Count> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    LoginLimiter(LongSupplier clockMillis) {
        this.clock = clockMillis;
    }

    /** Counts an attempt; returns 0 when it may go ahead, else how many ms to wait (the attempt is not counted). */
    synchronized long admit(String user, String address) {
        long now = clock.getAsLong();
        Count u = count("u:" + user, now), a = count("a:" + address, now);
        long wait = Math.max(u.blockedUntil, a.blockedUntil) - now;
        if (wait > 0) return wait;
        bump(u, USER_FREE, now);
        bump(a, ADDRESS_FREE, now);
        return 0;
    }

    /** The attempt admitted for {@code user} from {@code address} was right. */
    synchronized void succeeded(String user, String address) {
        counts.remove("u:" + user);
        Count a = counts.get("a:" + address);
        if (a != null && a.attempts > 0) a.attempts--;
    }

    private Count count(String key, long now) {
        Count c = counts.computeIfAbsent(key, k -> new Count());
        if (now - c.last > FORGET_MS && c.blockedUntil <= now) {
            c.attempts = 0;
            c.blockedUntil = 0;
        }
        return c;
    }

    private static void bump(Count c, int free, long now) {
        c.attempts++;
        c.last = now;
        if (c.attempts >= free) c.blockedUntil = now + Math.min(MAX_WAIT_MS, 1000L << Math.min(16, c.attempts - free));
    }
}
