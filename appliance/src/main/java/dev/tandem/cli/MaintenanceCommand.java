package dev.tandem.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "maintenance", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Pause (on) or resume (off) automatic failover for the whole group.")
final class MaintenanceCommand implements Callable<Integer> {
    enum OnOff { on, off }

    @Mixin
    AdminClient client;

    @Parameters(paramLabel = "on|off", description = "on: pause automatic failover; off: resume it")
    OnOff state;

    @Override
    public Integer call() {
        return client.postAndReport("/api/v1/maintenance", new JsonObject().put("enabled", state == OnOff.on),
                r -> "maintenance " + state + ": " + r.getString("message"), "");
    }
}
