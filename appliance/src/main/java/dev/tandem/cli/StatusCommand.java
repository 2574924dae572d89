package dev.tandem.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Show the group: nodes, roles, terms, lag, health.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    AdminClient client;

    @Option(names = "--json", description = "print the JSON of GET /api/v1/group")
    boolean json;

    @Override
    public Integer call() {
        AdminClient.Answer a;
        try {
            a = client.get("/api/v1/group");
        } catch (AdminClient.Unreachable e) {
            System.err.println("tandem: " + e.getMessage());
            return e.exit;
        }
        if (a.status() != 200) {
            System.err.println("tandem: " + a.body().getString("message", "HTTP " + a.status()));
            return TandemCli.FAILED;
        }
        JsonObject g = a.body();
        if (json) {
            System.out.println(g.encodePrettily());
            return TandemCli.OK;
        }
        System.out.printf("group %s  term %d  primary %s  quorum %s (%d of %d voters visible)  replication %s%s  maintenance %s%n",
                g.getString("name"), g.getLong("term"), g.getString("primary", "-"), g.getString("quorum"), g.getInteger("visible"),
                g.getInteger("voters"), g.getJsonObject("replication").getString("mode"),
                g.getJsonObject("replication").getBoolean("degraded") ? " (degraded)" : "", g.getBoolean("maintenance") ? "ON" : "off");
        System.out.printf("%-12s %-8s %-13s %5s %8s %9s %6s %10s %-6s %s%n", "NODE", "KIND", "ROLE", "TERM", "PRIORITY", "LSN", "LAG",
                "HEARTBEAT", "STATE", "HTTP");
        for (Object o : g.getJsonArray("nodes")) {
            JsonObject n = (JsonObject) o;
            System.out.printf("%-12s %-8s %-13s %5s %8s %9s %6s %10s %-6s %s%n", n.getString("name", n.getString("address")),
                    n.getString("kind", "?"), n.getString("role", "?"), n.getValue("term", "-"), n.getValue("priority", "-"),
                    n.getValue("lsn", "-"), n.getValue("lag", "-"),
                    n.containsKey("heartbeat_age_ms") ? n.getLong("heartbeat_age_ms") + "ms" : "-", n.getString("state"), n.getString("http", ""));
        }
        for (Object o : g.getJsonArray("nodes")) {
            JsonObject n = (JsonObject) o;
            if (n.getJsonObject("health") == null) continue;
            JsonObject h = n.getJsonObject("health");
            System.out.printf("as seen by %s: health live %s, ready %s, primary %s, secondary %s; replication lag %s ms%n", n.getString("name"),
                    yes(h, "live"), yes(h, "ready"), yes(h, "primary"), yes(h, "secondary"), n.getValue("lag_ms", 0));
        }
        if (g.getLong("divergent", 0L) > 0) {
            System.out.println("divergent changes kept: " + g.getLong("divergent") + " (GET /api/v1/divergent, or the console's Divergent page)");
        }
        System.out.println("last decision: " + g.getString("last_decision"));
        return TandemCli.OK;
    }

    private static String yes(JsonObject health, String key) {
        return health.getBoolean(key, false) ? "yes" : "no";
    }
}
