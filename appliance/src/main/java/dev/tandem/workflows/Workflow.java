package dev.tandem.workflows;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Value;

/**
 * One loaded workflow: its own GraalPy context (module globals behave as in one Python process),
 * its routes, and one thread ({@link WorkflowThread}) that runs its requests in arrival order and its
 * hooks before them. Python never runs on the HTTP event loop nor on the group thread.
 */
public final class Workflow implements AutoCloseable {
    private final String name;
    private final Path dir;
    private final Context context;
    private final PythonHost host;
    private final WorkflowThread thread;
    private final List<RoutePattern> routes;
    private final String loadError;
    private final Value dispatch;

    /** workflows.request_timeout; set once, as the workflow is loaded. */
    private volatile long requestTimeoutMs = 30_000;

    private Workflow(String name, Path dir, Context context, PythonHost host, WorkflowThread thread, List<RoutePattern> routes,
                     String loadError, Value dispatch) {
        this.name = name;
        this.dir = dir;
        this.context = context;
        this.host = host;
        this.routes = routes;
        this.loadError = loadError;
        this.dispatch = dispatch;
        this.thread = thread;
    }

    /**
     * Loads {@code dir/workflow.py} into {@code context} on the workflow's own thread, for at most
     * {@code loadTimeoutMs}: module code that runs longer is cancelled and the workflow is kept as
     * failed, with the reason. A workflow whose code fails keeps its error, not the node's life.
     */
    static Workflow load(String name, Path dir, Context context, PythonHost host, long loadTimeoutMs, long requestTimeoutMs) {
        Workflow wf = load(name, dir, context, host, loadTimeoutMs);
        wf.requestTimeoutMs = requestTimeoutMs;
        return wf;
    }

    private static Workflow load(String name, Path dir, Context context, PythonHost host, long loadTimeoutMs) {
        WorkflowThread thread = new WorkflowThread(name);
        Workflow wf;
        try {
            // the tandem library first (a cold engine takes seconds here; that is not the workflow's time), then
            // the workflow's own module code, which load_timeout bounds
            Value tandem = thread.runWithin(() -> importApi(context, host, name), Math.max(120_000, loadTimeoutMs));
            if (tandem == null) {
                wf = null;
            } else if (tandem.isString()) {
                wf = new Workflow(name, dir, context, host, thread, List.of(), tandem.asString(), null);
            } else {
                wf = thread.runWithin(() -> load(name, dir, context, host, thread, tandem), loadTimeoutMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            wf = null;
        } catch (RuntimeException e) {
            wf = new Workflow(name, dir, context, host, thread, List.of(), "loading failed: " + e, null);
        }
        if (wf != null) return wf;
        boolean stopped = cancel(context); // the thread is left alone meanwhile: an extra interrupt can lose the cancel's wake-up
        thread.shutdown();
        if (!stopped) org.slf4j.LoggerFactory.getLogger(Workflow.class).error("workflow {}: its module code did not stop within 5 s of being cancelled", name);
        return new Workflow(name, dir, context, host, thread, List.of(), "workflow.py did not finish loading within workflows.load_timeout ("
                + loadTimeoutMs + " ms) and was stopped; move long work out of module level (into a route, a hook or a thread)", null);
    }

    /** The tandem module, installed for this workflow; or a string: why the API library itself failed (a packaging fault). */
    private static Value importApi(Context context, PythonHost host, String name) {
        try {
            Value tandem = context.eval("python", "import tandem\ntandem");
            tandem.getMember("_install").execute(host, name);
            return tandem;
        } catch (PolyglotException e) {
            return Value.asValue("cannot import the tandem API: " + e.getMessage());
        }
    }

    /** Cancels whatever runs in {@code context}, waiting at most 5 s (close(true) waits for the code to reach a safepoint); true when it is closed. */
    private static boolean cancel(Context context) {
        return closeWithin(() -> context.close(true), 5000, "workflow-cancel");
    }

    /**
     * Runs a GraalPy close ({@code close}) on a thread of its own and waits at most {@code ms} for it: a close waits
     * for every thread still in the code, and one blocked in a call that does not return must not hold up a stop.
     * True if it finished in time; otherwise it is left behind, on a daemon thread.
     */
    static boolean closeWithin(Runnable close, long ms, String threadName) {
        Thread t = new Thread(() -> {
            try {
                close.run();
            } catch (RuntimeException e) {
                // cancelled or already closed: gone either way
                org.slf4j.LoggerFactory.getLogger(Workflow.class).debug("{}: {}", threadName, e.toString());
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
        try {
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    private static Workflow load(String name, Path dir, Context context, PythonHost host, WorkflowThread thread, Value tandem) {
        Value error = tandem.getMember("_load_workflow").execute();
        if (!error.isNull()) {
            return new Workflow(name, dir, context, host, thread, List.of(), error.asString().strip(), null);
        }
        JsonArray spec = new JsonArray(tandem.getMember("_routes_spec").execute().asString());
        List<RoutePattern> routes = new ArrayList<>();
        for (int i = 0; i < spec.size(); i++) {
            JsonArray r = spec.getJsonArray(i);
            routes.add(RoutePattern.compile(i, r.getString(0), r.getString(1), r.getString(2)));
        }
        return new Workflow(name, dir, context, host, thread, List.copyOf(routes), null, tandem.getMember("_dispatch"));
    }

    public String name() {
        return name;
    }

    public Path dir() {
        return dir;
    }

    public boolean loaded() {
        return loadError == null;
    }

    /** The Python error (with file and line) when the workflow failed to load. */
    public String loadError() {
        return loadError;
    }

    public List<RoutePattern> routes() {
        return routes;
    }

    /** The routes whose pattern matches {@code path}, whatever their method. */
    public List<Map.Entry<RoutePattern, Map<String, String>>> match(String path) {
        List<Map.Entry<RoutePattern, Map<String, String>>> out = new ArrayList<>();
        for (RoutePattern r : routes) {
            Map<String, String> params = r.match(path);
            if (params != null) out.add(Map.entry(r, params));
        }
        return out;
    }

    /**
     * Runs a route on this workflow's thread, bounded by {@code workflows.request_timeout} (queueing
     * included): past it the future fails with a timeout (answered 503) and the route's code is interrupted.
     */
    public CompletableFuture<WorkflowResponse> call(RoutePattern route, Map<String, String> params, WorkflowRequest req) {
        return thread.request(() -> invoke(route, params, req), requestTimeoutMs, this::interruptRunning);
    }

    /** Whether {@code error} (from {@link #call}) means the request ran or waited too long. */
    public static boolean timedOut(Throwable error) {
        return error instanceof WorkflowThread.TimedOut;
    }

    /** Whether {@code error} (from {@link #call}) means the workflow was replaced or removed before the request ran. */
    public static boolean gone(Throwable error) {
        return error instanceof WorkflowThread.Gone;
    }

    private void interruptRunning() {
        try {
            context.interrupt(Duration.ofSeconds(5));
        } catch (java.util.concurrent.TimeoutException e) {
            org.slf4j.LoggerFactory.getLogger(Workflow.class).error("workflow {}: a route that overran workflows.request_timeout did not stop "
                    + "within 5 s of being interrupted; its later requests time out until it does (or redeploy it)", name);
        } catch (RuntimeException e) {
            // the context is closing or closed: nothing left to stop
        }
    }

    private WorkflowResponse invoke(RoutePattern route, Map<String, String> params, WorkflowRequest req) {
        WorkflowResponse r;
        long started = dev.tandem.metrics.WriteTrace.now();
        try {
            r = dispatch(route, params, req);
        } finally {
            host.closeAbandoned(); // a route stopped inside `with state.transaction()` leaves no connection or lock behind
        }
        var trace = new dev.tandem.metrics.WriteTrace.Route();
        if (r.lsn() != 0 && trace.isEnabled()) {
            trace.lsn = r.lsn();
            trace.startNanos = started;
            trace.endNanos = dev.tandem.metrics.WriteTrace.now();
            trace.commit();
        }
        String refused = host.takeRefused();
        if (refused != null) {
            // the node stopped being primary while the route ran: nothing was committed, say so plainly
            return new WorkflowResponse(503, new JsonObject().put("status", 503).put("code", "unavailable")
                    .put("message", refused + "; retry, and the request reaches the new primary").encode(), Map.of("Retry-After", "1"), null, 0, 0);
        }
        return r;
    }

    private WorkflowResponse dispatch(RoutePattern route, Map<String, String> params, WorkflowRequest req) {
        host.takeLastCommit();
        try {
            Value r = dispatch.execute(route.index(), req.method(), req.path(), json(params),
                    json(req.query()), json(req.headers()),
                    req.body(), req.user());
            long[] commit = host.takeLastCommit();
            Value tb = r.getArrayElement(3);
            Map<String, String> headers = new LinkedHashMap<>();
            new JsonObject(r.getArrayElement(2).asString()).forEach(e -> headers.put(e.getKey(), String.valueOf(e.getValue())));
            Value body = r.getArrayElement(1);
            return new WorkflowResponse(r.getArrayElement(0).asInt(), body.isNull() ? null : body.asString(), headers,
                    tb.isNull() ? null : tb.asString(), commit[0], commit[1]);
        } catch (PolyglotException e) {
            // raised outside the route's own try (e.g. interrupted, or the dispatcher itself failed)
            long[] commit = host.takeLastCommit();
            return new WorkflowResponse(500, null, Map.of(), String.valueOf(e.getMessage()), commit[0], commit[1]);
        }
    }

    private static String json(Map<String, String> m) {
        return new JsonObject(new LinkedHashMap<String, Object>(m)).encode();
    }

    /** One hook run: which subscriber, its outcome ("ok", "error", "timeout"), how long, what it printed and raised. */
    public record HookRun(String workflow, String hook, String eventId, String outcome, long startedAtMillis, long durationMillis,
                          String output, String error) {}

    /**
     * Queues one event for this workflow's subscribers. Events run one at a time, in the order queued,
     * on the workflow's hook thread (never the HTTP event loop, never the group thread); each subscriber
     * runs on its own, and one that outlives {@code timeout} is interrupted: the others still get the
     * event and the workflow keeps working afterwards.
     */
    public CompletableFuture<List<HookRun>> deliver(String eventId, String dataJson, Duration timeout) {
        return thread.hook(() -> {
            List<HookRun> runs = new ArrayList<>();
            if (!loaded()) return runs;
            Value ha = context.eval("python", "import tandem.ha\ntandem.ha");
            Value deliverOne = ha.getMember("_deliver_one");
            JsonArray names = new JsonArray(ha.getMember("_subscriber_names").execute(eventId).asString());
            for (int i = 0; i < names.size(); i++) {
                long start = System.currentTimeMillis();
                long t0 = System.nanoTime();
                int index = i;
                var watchdog = WATCHDOG.schedule(() -> {
                    try {
                        context.interrupt(Duration.ofSeconds(5));
                    } catch (Exception e) {
                        // interrupt gives up after 5 s; the run is reported as timed out either way
                    }
                }, timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                OutputCapture.begin();
                String hook = names.getString(index), outcome, error = null;
                try {
                    Value r = deliverOne.execute(eventId, index, dataJson);
                    Value tb = r.getArrayElement(1);
                    outcome = tb.isNull() ? "ok" : "error";
                    if (!tb.isNull()) error = tb.asString();
                } catch (PolyglotException e) {
                    boolean stopped = e.isInterrupted() || e.isCancelled();
                    outcome = stopped ? "timeout" : "error";
                    error = stopped ? "stopped after workflows.hook_timeout (" + timeout.toMillis() + " ms)" : String.valueOf(e.getMessage());
                    if (stopped) {
                        try {
                            watchdog.get(6, java.util.concurrent.TimeUnit.SECONDS); // the interrupt is over before the next hook runs
                        } catch (Exception ignored) {
                            // it gave up or was cancelled: either way it is over
                        }
                    }
                } finally {
                    watchdog.cancel(false);
                    host.closeAbandoned();
                }
                String output = OutputCapture.end();
                runs.add(new HookRun(name, hook, eventId, outcome, start, (System.nanoTime() - t0) / 1_000_000, output, error));
            }
            return runs;
        });
    }

    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG = dev.tandem.util.Threads.scheduled("hook-watchdog");

    @Override
    /**
     * Answers whatever still waits ({@link WorkflowThread#shutdown}) and cancels the context, waiting for
     * that at most 5 s: code that does not stop even then is left to die with the process (it is
     * cancelled and holds no lock of the node's), so replacing, removing or stopping never hangs.
     */
    public void close() {
        thread.drain();
        if (!cancel(context)) {
            org.slf4j.LoggerFactory.getLogger(Workflow.class).error("workflow {}: its code did not stop within 5 s of being cancelled; "
                    + "it is left behind (cancelled) and the node goes on", name);
        }
        thread.shutdown();
    }
}
