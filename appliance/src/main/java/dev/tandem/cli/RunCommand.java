package dev.tandem.cli;

import dev.tandem.config.ConfigException;
import dev.tandem.config.TandemConfig;
import dev.tandem.node.TandemNode;
import dev.tandem.store.StoreException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", description = "Run a node in the foreground (systemd runs this). Stops cleanly on SIGTERM/Ctrl-C.")
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

    static int runUntilStopped(TandemConfig config) throws InterruptedException {
        TandemNode node = new TandemNode(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "shutdown"));
        try {
            node.start();
        } catch (StoreException | IllegalStateException e) {
            System.err.println("tandem: node " + config.node().name() + " cannot start: " + e.getMessage());
            return TandemCli.FAILED;
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            System.err.println("tandem: node " + config.node().name() + " cannot start: " + c);
            return TandemCli.FAILED;
        }
        stopped.await();
        return TandemCli.OK;
    }
}
