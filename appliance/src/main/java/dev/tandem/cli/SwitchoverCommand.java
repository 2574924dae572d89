package dev.tandem.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "switchover", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Planned switchover: the primary hands its role to NODE (default: the best secondary); no acknowledged write is lost.")
final class SwitchoverCommand implements Callable<Integer> {
    @Mixin
    AdminClient client;

    @Option(names = "--to", paramLabel = "NODE", description = "the node to make primary")
    String to;

    @Override
    public Integer call() {
        return client.postAndReport("/api/v1/switchover", new JsonObject().put("to", to),
                r -> "switchover done: " + r.getString("primary") + " is primary (" + r.getLong("took_ms") + " ms)", "switchover failed: ");
    }
}
