package dev.tandem.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "switchover", description = "Planned switchover: the primary hands its role to NODE (default: the best secondary); no acknowledged write is lost.")
final class SwitchoverCommand implements Callable<Integer> {
    @Mixin
    AdminClient client;

    @Option(names = "--to", paramLabel = "NODE", description = "the node to make primary")
    String to;

    @Override
    public Integer call() {
        try {
            AdminClient.Answer a = client.post("/api/v1/switchover", new JsonObject().put("to", to));
            if (a.status() == 200) {
                System.out.println("switchover done: " + a.body().getString("primary") + " is primary (" + a.body().getLong("took_ms") + " ms)");
                return TandemCli.OK;
            }
            System.err.println("tandem: switchover failed: " + a.body().getString("message", "HTTP " + a.status()));
            return TandemCli.FAILED;
        } catch (AdminClient.Unreachable e) {
            System.err.println("tandem: " + e.getMessage());
            return e.exit;
        }
    }
}
