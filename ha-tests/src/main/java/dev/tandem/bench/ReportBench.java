package dev.tandem.bench;

import dev.tandem.campaign.Availability;
import dev.tandem.campaign.Campaign;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One benchmark report: runs every benchmark (failover with latency traces, ipam one node and sync pair, catch-up,
 * hook latency, a short fault campaign for availability) and writes {@code report.md}, {@code report.json} and
 * PNG plots: every SPEC 8 row with min/p50/p99/max, the run count and the command that reproduces it, the
 * availability per fault kind, and the machine it ran on.
 *
 * <pre>bin/tandem-bench report [--out docs/report] [--runs 20] [--quick]</pre>
 *
 * {@code --quick} runs each benchmark a little (CI's smoke run); its numbers say nothing.
 */
public final class ReportBench {
    public static void main(String[] args) throws Exception {
        Path out = dev.tandem.harness.NodeProcess.home().resolve("docs/report");
        int runs = 20;
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                default -> {
                    System.err.println("usage: bin/tandem-bench report [--out docs/report] [--runs 20] [--quick]");
                    System.exit(2);
                }
            }
        }
        if (quick) runs = Math.min(runs, 2);
        Figures.reset();
        long started = System.currentTimeMillis();
        FailoverBench.main(new String[] {"--runs", String.valueOf(runs), "--traces"});
        IpamBench.main(new String[] {"--setups", "single,sync", "--clients", "1,8,32", "--seconds", quick ? "1" : "10", "--warmup", quick ? "1" : "5", "--jit-warmup", quick ? "0" : "180"});
        CatchUpBench.main(new String[] {"--changes", quick ? "2000" : "100000"});
        HookLatencyBench.main(new String[] {"--switchovers", quick ? "3" : "100"});
        Path campaignDir = Files.createTempDirectory("tandem-report-campaign");
        int faults = quick ? 2 : 12;
        Campaign.Result campaign = Campaign.run(campaignDir, Campaign.Setup.MAJORITY, 1, faults, System.out);
        List<Availability.Row> availability = Availability.of(campaign.rounds());
        String campaignCommand = "bin/tandem-bench campaign --minutes 0 --seed 1 --faults " + faults + " --setups majority";
        Files.createDirectories(out);
        List<String> plots = Plots.write(out, Figures.samples(), Figures.series());
        JsonObject json = json(started, availability, campaignCommand, campaign.violations(), plots).put("campaign_partitions", campaign.partitions());
        Files.writeString(out.resolve("report.json"), json.encodePrettily() + "\n");
        Files.writeString(out.resolve("report.md"), markdown(json));
        System.out.println("report: " + out.resolve("report.md"));
    }

    static JsonObject machine() {
        JsonObject m = new JsonObject().put("java", Runtime.version().toString()).put("cores", Runtime.getRuntime().availableProcessors())
                .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    m.put("cpu", line.substring(line.indexOf(':') + 1).strip());
                    break;
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal")) {
                    m.put("memory_mib", Long.parseLong(line.replaceAll("\\D+", "")) / 1024);
                    break;
                }
            }
            Path release = Path.of("/etc/os-release");
            if (Files.exists(release)) {
                for (String line : Files.readAllLines(release)) {
                    if (line.startsWith("PRETTY_NAME=")) m.put("distribution", line.substring(12).replace("\"", ""));
                }
            }
        } catch (Exception e) {
            m.put("note", "machine details unreadable: " + e.getMessage());
        }
        return m;
    }

    static JsonObject json(long started, List<Availability.Row> availability, String campaignCommand, List<String> violations, List<String> plots) {
        JsonArray rows = new JsonArray();
        for (Figures.Row r : Figures.rows()) {
            rows.add(new JsonObject().put("section", r.section()).put("name", r.name()).put("unit", r.unit()).put("runs", r.runs())
                    .put("min", r.min()).put("p50", r.p50()).put("p99", r.p99()).put("max", r.max()).put("command", r.command()));
        }
        JsonArray avail = new JsonArray();
        for (Availability.Row a : availability) {
            avail.add(new JsonObject().put("fault", a.kind().name().toLowerCase(Locale.ROOT)).put("faults", a.faults())
                    .put("other_address_p50_ms", Availability.percentile(a.otherMs(), 50)).put("other_address_max_ms", max(a.otherMs()))
                    .put("own_address_p50_ms", Availability.percentile(a.faultedMs(), 50)).put("own_address_max_ms", max(a.faultedMs()))
                    .put("requests", a.requests()).put("failed_node_down", a.calledUnreachable()).put("failed_by_group", a.groupRefused())
                    .put("command", campaignCommand));
        }
        return new JsonObject().put("generated", Instant.ofEpochMilli(started).toString())
                .put("took_s", (System.currentTimeMillis() - started) / 1000).put("machine", machine()).put("spec8", spec8())
                .put("rows", rows).put("availability", avail).put("campaign_violations", new JsonArray(violations))
                .put("plots", new JsonArray(plots));
    }

    private static long max(long[] xs) {
        return xs.length == 0 ? -1 : xs[xs.length - 1];
    }

    /** SPEC 8 row by row: the aim, what was measured, met or not. */
    static JsonArray spec8() {
        JsonArray out = new JsonArray();
        Figures.Row kill = find(r -> r.name().equals("kill -9 -> first acknowledged write"));
        Figures.Row stop = find(r -> r.name().equals("SIGSTOP -> first acknowledged write"));
        Figures.Row gap = find(r -> r.name().equals("switchover: writes unavailable"));
        Figures.Row sync32 = find(r -> r.name().equals("sync, 32 clients: writes/s"));
        Figures.Row sync32p99 = find(r -> r.name().equals("sync, 32 clients: p99"));
        Figures.Row sync1 = find(r -> r.name().equals("sync, 1 client: p50"));
        Figures.Row single1 = find(r -> r.name().equals("single, 1 client: p50"));
        Figures.Row hook = find(r -> r.name().equals("role change -> hook start"));
        Figures.Row catchUp = find(r -> r.name().startsWith("catch-up of "));
        double dataRss = Figures.rows().stream().filter(r -> r.section().equals("memory") && !r.name().startsWith("witness")).mapToDouble(Figures.Row::max).max().orElse(-1);
        double witnessRss = Figures.rows().stream().filter(r -> r.name().startsWith("witness RSS")).mapToDouble(Figures.Row::max).max().orElse(-1);
        out.add(aim("primary killed (kill -9) to secondary accepting writes", "p50 <= 200 ms, p99 <= 500 ms", kill == null ? null
                : "p50 " + fmt(kill.p50()) + ", p99 " + fmt(kill.p99()) + " ms (n=" + kill.runs() + ")", kill != null && kill.p50() <= 200 && kill.p99() <= 500));
        out.add(aim("primary frozen (SIGSTOP) to secondary accepting writes", "<= failure_timeout + 500 ms = 1,500 ms", stop == null ? null
                : "max " + fmt(stop.max()) + " ms, p50 " + fmt(stop.p50()) + " (n=" + stop.runs() + ")", stop != null && stop.max() <= 1500));
        out.add(aim("planned switchover: writes unavailable", "<= 300 ms, 0 lost", gap == null ? null
                : "max " + fmt(gap.max()) + " ms, p50 " + fmt(gap.p50()) + " (n=" + gap.runs() + "), 0 lost", gap != null && gap.max() <= 300));
        out.add(aim("workflow writes, sync replication, 32 clients", ">= 3,000/s, p99 <= 20 ms", sync32 == null ? null
                : fmt(sync32.p50()) + "/s, p99 " + fmt(sync32p99.p50()) + " ms", sync32 != null && sync32.p50() >= 3000 && sync32p99.p50() <= 20));
        out.add(aim("workflow writes, sync replication, 1 client", "p50 <= one node's + 1 ms", sync1 == null || single1 == null ? null
                : "p50 " + fmt(sync1.p50()) + " ms vs one node's " + fmt(single1.p50()) + " ms", sync1 != null && single1 != null && sync1.p50() <= single1.p50() + 1));
        out.add(aim("the same writes against a Flask + PostgreSQL sync pair", ">= 1x at 1, 8, 32 clients (aim 2x)", null, false)
                .put("note", "not measured by this report yet (the peer benchmark is issue 13)"));
        out.add(aim("role change to hook start", "p99 <= 20 ms", hook == null ? null
                : "p99 " + fmt(hook.p99()) + " ms (n=" + hook.runs() + ")", hook != null && hook.p99() <= 20));
        out.add(aim("catch-up of 100,000 changes", "<= 10 s", catchUp == null ? null : catchUp.name() + ": " + fmt(catchUp.p50()) + " ms",
                catchUp != null && catchUp.p50() <= 10_000 && catchUp.name().matches("catch-up of \\d{6,} .*")));
        out.add(aim("memory: data node / witness", "RSS <= 600 MB / <= 150 MB", dataRss < 0 ? null
                : "largest data node RSS " + fmt(dataRss) + " MiB, witness " + fmt(witnessRss) + " MiB",
                dataRss >= 0 && dataRss * 1.048576 <= 600 && witnessRss * 1.048576 <= 150));
        return out;
    }

    private static JsonObject aim(String what, String aim, String measured, boolean met) {
        return new JsonObject().put("what", what).put("aim", aim).put("measured", measured == null ? "not measured" : measured)
                .put("met", measured != null && met);
    }

    private static Figures.Row find(Predicate<Figures.Row> p) {
        return Figures.rows().stream().filter(p).findFirst().orElse(null);
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%,d", (long) v) : String.format(Locale.ROOT, "%,.1f", v);
    }

    static String markdown(JsonObject j) {
        StringBuilder b = new StringBuilder("# tandem benchmark report\n\n");
        JsonObject m = j.getJsonObject("machine");
        b.append("Generated ").append(j.getString("generated")).append(" in ").append(j.getLong("took_s")).append(" s by `bin/tandem-bench report`, on ")
                .append(m.getString("distribution", m.getString("os"))).append(", ").append(m.getInteger("cores")).append(" cores (")
                .append(m.getString("cpu", "?")).append("), ").append(m.getLong("memory_mib", 0L)).append(" MiB, Java ").append(m.getString("java"))
                .append(". Every node, the witness and the load generator share that machine. Defaults: 100 ms heartbeat, 1 s failure timeout.\n\n");
        b.append("## SPEC 8\n\n| what | aim | measured | |\n| --- | --- | --- | --- |\n");
        for (Object o : j.getJsonArray("spec8")) {
            JsonObject r = (JsonObject) o;
            b.append("| ").append(r.getString("what")).append(" | ").append(r.getString("aim")).append(" | ").append(r.getString("measured"))
                    .append(r.containsKey("note") ? " (" + r.getString("note") + ")" : "").append(" | ")
                    .append(r.getString("measured").equals("not measured") ? "-" : r.getBoolean("met") ? "met" : "**missed**").append(" |\n");
        }
        b.append("\n## Every figure\n\n| section | figure | runs | min | p50 | p99 | max | unit | command |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Object o : j.getJsonArray("rows")) {
            JsonObject r = (JsonObject) o;
            b.append("| ").append(r.getString("section")).append(" | ").append(r.getString("name")).append(" | ").append(r.getLong("runs"));
            for (String k : List.of("min", "p50", "p99", "max")) b.append(" | ").append(fmt(r.getDouble(k)));
            b.append(" | ").append(r.getString("unit")).append(" | `").append(r.getString("command")).append("` |\n");
        }
        b.append("\n## Availability per fault (fault campaign, pair + witness)\n\nFrom the fault until writes succeed again through the other data node's address and through the faulted\n"
                + "node's own (a killed node's own address comes back with its restart). Failed requests by cause: the client called a node that\n"
                + "did not answer, or a node that answered refused or could not confirm the write. Partitions: "
                + j.getString("campaign_partitions", "the fault endpoint") + ".\n\n"
                + "| fault | count | other address p50 / max ms | own address p50 / max ms | requests | failed: node down | failed: by the group | command |\n"
                + "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Object o : j.getJsonArray("availability")) {
            JsonObject a = (JsonObject) o;
            b.append("| ").append(a.getString("fault")).append(" | ").append(a.getInteger("faults")).append(" | ")
                    .append(range(a.getLong("other_address_p50_ms"), a.getLong("other_address_max_ms"))).append(" | ")
                    .append(range(a.getLong("own_address_p50_ms"), a.getLong("own_address_max_ms"))).append(" | ").append(a.getInteger("requests"))
                    .append(" | ").append(a.getInteger("failed_node_down")).append(" | ").append(a.getInteger("failed_by_group")).append(" | `")
                    .append(a.getString("command")).append("` |\n");
        }
        JsonArray v = j.getJsonArray("campaign_violations");
        b.append("\nCampaign violations: ").append(v.isEmpty() ? "none" : String.join("; ", v.getList())).append(".\n\n## Plots\n\n");
        for (Object p : j.getJsonArray("plots")) b.append("![").append(p).append("](").append(p).append(")\n\n");
        return b.toString();
    }

    private static String range(long p50, long max) {
        return p50 < 0 ? "-" : p50 + " / " + max;
    }

    private ReportBench() {}
}
