package dev.tandem.workflows;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The one thread that runs a workflow's Python: its requests and its hooks. One thread per context
 * keeps the context single-threaded (faster in GraalPy) and means a hook stopped at its timeout
 * (Context.interrupt stops every thread in the context) never takes a request with it. Hooks go
 * before queued requests, so a role change waits at most for the request that is running; among
 * hooks, and among requests, the order is arrival order.
 */
final class WorkflowThread {
    private record Job(int priority, long seq, Runnable work) implements Runnable, Comparable<Job> {
        @Override
        public void run() {
            work.run();
        }

        @Override
        public int compareTo(Job o) {
            return priority != o.priority ? Integer.compare(priority, o.priority) : Long.compare(seq, o.seq);
        }
    }

    private final AtomicLong seq = new AtomicLong();
    private final ThreadPoolExecutor executor;

    WorkflowThread(String name) {
        executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new PriorityBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "workflow-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    <T> CompletableFuture<T> hook(Supplier<T> work) {
        return submit(0, work);
    }

    <T> CompletableFuture<T> request(Supplier<T> work) {
        return submit(1, work);
    }

    private <T> CompletableFuture<T> submit(int priority, Supplier<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        executor.execute(new Job(priority, seq.incrementAndGet(), () -> {
            try {
                f.complete(work.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        }));
        return f;
    }

    void shutdown() {
        executor.shutdownNow();
    }
}
