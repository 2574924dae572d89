package dev.tandem.util;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The node's own threads: one named daemon thread per executor (a node stops by closing, not by waiting on them). */
public final class Threads {
    private Threads() {}

    /** A single daemon thread named {@code name}, running tasks in order. */
    public static ExecutorService single(String name) {
        return Executors.newSingleThreadExecutor(r -> daemon(r, name));
    }

    /** A single daemon thread named {@code name}, running tasks in order and on schedule. */
    public static ScheduledExecutorService scheduled(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name));
    }

    /** Daemon threads named {@code name}, for executors of another shape (a priority queue, say). */
    public static java.util.concurrent.ThreadFactory named(String name) {
        return r -> daemon(r, name);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
