package dev.tandem.cli;

import dev.tandem.config.ConfigException;
import dev.tandem.config.ConfigLoader;
import dev.tandem.config.TandemConfig;
import dev.tandem.config.Units;
import dev.tandem.core.TimingRules;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "check-config", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Validate the configuration; print it resolved, with where each value came from, and the failover time it implies.")
final class CheckConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        ConfigLoader.Resolved r;
        try {
            r = options.resolve();
        } catch (ConfigException e) {
            return ConfigOptions.report(e);
        }
        TandemConfig c = r.config();
        System.out.println("# " + (options.effectiveFile() == null ? "defaults only" : options.effectiveFile()) + ": valid");
        String section = "";
        for (var e : r.sources().entrySet()) {
            String key = e.getKey();
            String top = key.substring(0, key.indexOf('.'));
            if (!top.equals(section)) {
                System.out.println(top + ":");
                section = top;
            }
            System.out.printf("  %-24s %-40s # %s%n", key.substring(top.length() + 1) + ":", value(c, key), e.getValue());
        }
        var g = c.group();
        System.out.println("# failure detection: heartbeat every " + Units.format(g.heartbeatInterval()) + ", suspect after "
                + Units.format(TimingRules.heartbeatTimeout(g.heartbeatInterval(), g.failureTimeout())) + ", verify "
                + Units.format(TimingRules.verifyTimeout(g.heartbeatInterval())));
        System.out.println("# worst-case failover (primary frozen or cut off): "
                + Units.format(TimingRules.worstCaseFailover(g.heartbeatInterval(), g.failureTimeout()))
                + "; a killed primary is usually replaced far sooner (its connections close)");
        return TandemCli.OK;
    }

    private static String value(TandemConfig c, String key) {
        return switch (key) {
            case "node.name" -> c.node().name();
            case "node.kind" -> c.node().kind().name().toLowerCase();
            case "node.priority" -> String.valueOf(c.node().priority());
            case "node.data_dir" -> String.valueOf(c.node().dataDir());
            case "group.name" -> c.group().name();
            case "group.bind" -> c.group().bind().toString();
            case "group.members" -> c.group().members().toString();
            case "group.secret_file" -> String.valueOf(c.group().secretFile());
            case "group.quorum" -> c.group().quorum().name().toLowerCase();
            case "group.preempt" -> String.valueOf(c.group().preempt());
            case "group.heartbeat_interval" -> Units.format(c.group().heartbeatInterval());
            case "group.failure_timeout" -> Units.format(c.group().failureTimeout());
            case "replication.mode" -> c.replication().mode().name().toLowerCase();
            case "replication.sync_timeout" -> Units.format(c.replication().syncTimeout());
            case "replication.strict" -> String.valueOf(c.replication().strict());
            case "replication.fsync" -> String.valueOf(c.replication().fsync());
            case "replication.log_retention" -> String.valueOf(c.replication().logRetention());
            case "http.bind" -> c.http().bind().toString();
            case "http.tls.cert" -> String.valueOf(c.http().tlsCert());
            case "http.tls.key" -> String.valueOf(c.http().tlsKey());
            case "http.forward_to_primary" -> String.valueOf(c.http().forwardToPrimary());
            case "http.body_limit" -> String.valueOf(c.http().bodyLimit());
            case "workflows.dir" -> String.valueOf(c.workflows().dir());
            case "workflows.hook_timeout" -> Units.format(c.workflows().hookTimeout());
            case "http.tls.ca" -> String.valueOf(c.http().tlsCa());
            case "http.client_timeout" -> Units.format(c.http().clientTimeout());
            case "http.metrics_public" -> String.valueOf(c.http().metricsPublic());
            case "workflows.request_timeout" -> Units.format(c.workflows().requestTimeout());
            case "workflows.load_timeout" -> Units.format(c.workflows().loadTimeout());
            default -> key.startsWith("workflows.commands.")
                    ? String.valueOf(c.workflows().commands().get(key.substring("workflows.commands.".length())))
                    : "?";
        };
    }
}
