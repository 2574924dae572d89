package dev.tandem.cli;

import dev.tandem.config.ConfigException;
import dev.tandem.config.TandemConfig;
import dev.tandem.node.TandemNode;
import dev.tandem.store.StoreException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Run a node in the foreground (systemd runs this). Stops cleanly on SIGTERM/Ctrl-C.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        TandemConfig config;
        try {
            config = options.resolve().config();
        } catch (ConfigException e) {
            return ConfigOptions.report(e);
        }
        return runUntilStopped(config);
    }

    /** How long a clean stop may take before the process exits anyway. */
    static final long STOP_LIMIT_MS = 10_000;

    /** The frames of {@code t} (what a stop that hangs waits for), one per line, for stderr: the log is closed by then. */
    static String stackOf(Thread t) {
        StringBuilder b = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) b.append("\n\tat ").append(e);
        // and what it may wait for: the workflows' threads, still in their code
        Thread.getAllStackTraces().forEach((w, frames) -> {
            if (!w.getName().startsWith("workflow-")) return;
            b.append("\n").append(w.getName()).append(':');
            for (int i = 0; i < Math.min(frames.length, 25); i++) b.append("\n\tat ").append(frames[i]);
        });
        return b.toString();
    }

    static int runUntilStopped(TandemConfig config) throws InterruptedException {
        TandemNode node = new TandemNode(config);
        // the exit code if the stop limit ends the process: 143 as for SIGTERM (a success to systemd), or STORE_FAILED
        java.util.concurrent.atomic.AtomicInteger haltCode = new java.util.concurrent.atomic.AtomicInteger(143);
        // a failed store ends the process (the shutdown hook closes the node: a primary resigns), so that systemd
        // restarts it once the disk has room again; so it must end with STORE_FAILED, however the close goes
        node.onFatal(why -> {
            System.err.println("tandem: node " + config.node().name() + " stops: its store failed: " + why);
            haltCode.set(TandemCli.STORE_FAILED);
            new Thread(() -> System.exit(TandemCli.STORE_FAILED), "store-failed-exit").start();
        });
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Thread closing = Thread.currentThread();
            stopping.set(true);
            // a stop is bounded: whatever hangs (a workflow stuck in native code, a peer that never answers),
            // the process is gone within STOP_LIMIT of SIGTERM, as systemd and operators expect
            Thread limit = new Thread(() -> {
                try {
                    Thread.sleep(STOP_LIMIT_MS);
                } catch (InterruptedException e) {
                    return;
                }
                System.err.println("tandem: node " + config.node().name() + " did not stop within " + STOP_LIMIT_MS / 1000
                        + " s; exiting now (exit code " + haltCode.get() + "). Where the stop was:" + stackOf(closing));
                Runtime.getRuntime().halt(haltCode.get());
            }, "stop-limit");
            limit.setDaemon(true);
            limit.start();
            node.close();
            stopped.countDown();
        }, "shutdown"));
        try {
            node.start();
        } catch (Exception e) {
            if (stopping.get()) {
                // SIGTERM while starting: the stop closed what the start was still using; that is no failure to report
                System.err.println("tandem: node " + config.node().name() + " stopped while it was starting");
                stopped.await();
                return TandemCli.OK;
            }
            Throwable c = e instanceof StoreException || e instanceof IllegalStateException || e.getCause() == null ? e : e.getCause();
            System.err.println("tandem: node " + config.node().name() + " cannot start: "
                    + (c == e ? e.getMessage() : c.toString()));
            return TandemCli.FAILED;
        }
        stopped.await();
        return TandemCli.OK;
    }
}
