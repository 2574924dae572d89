package dev.tandem.workflows;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The one thread that runs a workflow's Python: its requests and its hooks. One thread per context
 * keeps the context single-threaded (faster in GraalPy) and means a hook stopped at its timeout
 * (Context.interrupt stops every thread in the context) never takes a request with it. Hooks go
 * before queued requests, so a role change waits at most for the request that is running; among
 * hooks, and among requests, the order is arrival order.
 *
 * <p>Every job ends with an answer: a request that is still queued or running when its time limit
 * passes is completed with {@link TimedOut} (and, if it runs, its code is interrupted); jobs still
 * queued when the workflow is replaced or removed are completed with {@link Gone}.
 */
final class WorkflowThread {
    /** The request outlived {@code workflows.request_timeout}, waiting or running. */
    static final class TimedOut extends RuntimeException {
        TimedOut(String message) {
            super(message);
        }
    }

    /** The workflow was replaced or removed before the job ran. */
    static final class Gone extends RuntimeException {
        Gone(String message) {
            super(message);
        }
    }

    private static final int QUEUED = 0, RUNNING = 1, DONE = 2;

    private final class Job<T> implements Runnable, Comparable<Job<?>> {
        final int priority;
        final long seq;
        final Supplier<T> work;
        final CompletableFuture<T> future = new CompletableFuture<>();
        final AtomicInteger state = new AtomicInteger(QUEUED);

        Job(int priority, long seq, Supplier<T> work) {
            this.priority = priority;
            this.seq = seq;
            this.work = work;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(QUEUED, RUNNING)) return; // timed out while it waited
            running = this;
            try {
                future.complete(work.get());
            } catch (Throwable t) {
                future.completeExceptionally(t);
            } finally {
                running = null;
                state.set(DONE);
            }
        }

        @Override
        public int compareTo(Job<?> o) {
            return priority != o.priority ? Integer.compare(priority, o.priority) : Long.compare(seq, o.seq);
        }
    }

    private static final ScheduledExecutorService TIMER = dev.tandem.util.Threads.scheduled("workflow-timeouts");

    private final String name;
    private final AtomicLong seq = new AtomicLong();
    private final ThreadPoolExecutor executor;
    private volatile Job<?> running;

    WorkflowThread(String name) {
        this.name = name;
        executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new PriorityBlockingQueue<>(), dev.tandem.util.Threads.named("workflow-" + name));
    }

    <T> CompletableFuture<T> hook(Supplier<T> work) {
        return submit(0, work).future;
    }

    <T> CompletableFuture<T> request(Supplier<T> work) {
        return submit(1, work).future;
    }

    /**
     * A request bounded by {@code timeoutMs} from now, queueing included. When it passes while the
     * request runs, {@code interrupt} is called (on a timer thread) to stop its code.
     */
    <T> CompletableFuture<T> request(Supplier<T> work, long timeoutMs, Runnable interrupt) {
        Job<T> job = submit(1, work);
        if (job.future.isDone()) return job.future;
        var timer = TIMER.schedule(() -> {
            if (job.state.compareAndSet(QUEUED, DONE)) {
                job.future.completeExceptionally(new TimedOut("workflow '" + name + "' did not start the request within workflows.request_timeout ("
                        + timeoutMs + " ms): earlier requests kept it busy"));
            } else if (job.state.get() == RUNNING && job.future.completeExceptionally(new TimedOut("workflow '" + name
                    + "' ran longer than workflows.request_timeout (" + timeoutMs + " ms); it was stopped"))) {
                if (running == job) interrupt.run();
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
        job.future.whenComplete((v, e) -> timer.cancel(false));
        return job.future;
    }

    /** Runs {@code work} on this thread and waits up to {@code timeoutMs}; null when it did not finish (it keeps running). */
    <T> T runWithin(Supplier<T> work, long timeoutMs) throws InterruptedException {
        Job<T> job = submit(0, work);
        try {
            return job.future.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private <T> Job<T> submit(int priority, Supplier<T> work) {
        Job<T> job = new Job<>(priority, seq.incrementAndGet(), work);
        try {
            executor.execute(job);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            job.state.set(DONE);
            job.future.completeExceptionally(new Gone("workflow '" + name + "' was replaced or removed; retry"));
        }
        return job;
    }

    /**
     * Takes no more jobs and answers every job still queued, and the running one, with {@link Gone};
     * does not touch the thread itself (the caller cancels the code, then calls {@link #shutdown}).
     */
    void drain() {
        executor.shutdown();
        List<Runnable> queued = new java.util.ArrayList<>();
        executor.getQueue().drainTo(queued);
        Gone gone = new Gone("workflow '" + name + "' was replaced or removed while the request waited; retry");
        for (Runnable r : queued) {
            if (r instanceof Job<?> j && j.state.compareAndSet(QUEUED, DONE)) j.future.completeExceptionally(gone);
        }
        Job<?> now = running;
        if (now != null) now.future.completeExceptionally(gone);
    }

    /** Stops the thread; every job still queued, and the running one, is answered with {@link Gone}. */
    void shutdown() {
        drain();
        executor.shutdownNow();
    }
}
