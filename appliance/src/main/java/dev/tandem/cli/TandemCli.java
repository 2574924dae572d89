package dev.tandem.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tandem}: run a node, a local demo group, and steer a running group. Exit: 0 done, 1 failed, 2 bad usage or configuration. */
@Command(name = "tandem", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        description = "High-availability appliance: a primary/secondary pair (+ witness) serving Python workflows.",
        subcommands = {RunCommand.class, DemoCommand.class, StatusCommand.class, SwitchoverCommand.class, MaintenanceCommand.class,
                CheckConfigCommand.class, VersionCommand.class})
public final class TandemCli {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int BAD_USAGE = 2;
    /** The node stopped because its store failed (e.g. a full disk): systemd restarts it (Restart=on-failure). */
    public static final int STORE_FAILED = 75;

    static {
        System.setProperty("java.util.logging.SimpleFormatter.format",
                System.getProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$-7s [%3$s] %5$s%6$s%n"));
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new TandemCli());
        cl.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? BAD_USAGE : FAILED);
        return cl.execute(args);
    }
}
