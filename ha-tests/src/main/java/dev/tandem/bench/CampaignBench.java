package dev.tandem.bench;

import dev.tandem.campaign.Campaign;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The long fault campaign: seed after seed (each one campaign per setup) until the time is up.
 *
 * <pre>bin/tandem-bench campaign [--minutes 30] [--seed 1] [--faults 10] [--setups majority,none]</pre>
 *
 * Prints each fault's figures, and at the end every violation with its seed; exits 1 if there was one.
 * A seed replays the same faults: {@code --seed N --minutes 0} runs that one seed once.
 */
public final class CampaignBench {
    static void deleteTree(Path dir) throws java.io.IOException {
        try (var all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A node log that says its stop hit the stop limit is kept (it shows where the stop was), even from a clean run. */
    static void keepLogsOfSlowStops(Path dir, Path to) throws java.io.IOException {
        try (var logs = Files.walk(dir)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().equals("node.log")).toList()) {
                if (!Files.readString(log).contains("did not stop within")) continue;
                Path copy = to.resolve(dir.getFileName() + "-" + log.getParent().getFileName() + ".log");
                Files.copy(log, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                System.out.println("  a stop hit the stop limit: " + copy);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        double minutes = 30;
        long seed = 1;
        int faults = 10;
        List<Campaign.Setup> setups = List.of(Campaign.Setup.MAJORITY, Campaign.Setup.NONE);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--minutes" -> minutes = Double.parseDouble(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--faults" -> faults = Integer.parseInt(args[++i]);
                case "--setups" -> setups = java.util.Arrays.stream(args[++i].split(",")).map(x -> Campaign.Setup.valueOf(x.strip().toUpperCase(Locale.ROOT))).toList();
                default -> {
                    System.err.println("usage: bin/tandem-bench campaign [--minutes 30] [--seed 1] [--faults 10] [--setups majority,none]");
                    System.exit(2);
                }
            }
        }
        long end = System.nanoTime() + (long) (minutes * 60e9);
        Path root = Files.createTempDirectory("tandem-campaign");
        List<String> violations = new ArrayList<>();
        int runs = 0, faultCount = 0, requests = 0;
        List<Campaign.Round> rounds = new ArrayList<>();
        long first = seed;
        do {
            for (Campaign.Setup s : setups) {
                Path dir = root.resolve(s.name().toLowerCase(Locale.ROOT) + "-" + seed);
                Campaign.Result r = Campaign.run(dir, s, seed, faults, System.out);
                runs++;
                faultCount += r.rounds().size();
                rounds.addAll(r.rounds());
                requests += r.requests();
                for (String v : r.violations()) violations.add("seed " + seed + " " + s.name().toLowerCase(Locale.ROOT) + ": " + v);
                Path kept = Files.createDirectories(root.resolve("histories")).resolve(r.history().getFileName());
                Files.move(r.history(), kept);
                System.out.println("  history: " + kept);
                keepLogsOfSlowStops(dir, kept.getParent());
                if (r.violations().isEmpty()) deleteTree(dir); // the nodes' data of a clean run is not needed
                else System.out.println("  the nodes' data and logs are kept in " + dir);
            }
            seed++;
        } while (System.nanoTime() < end);
        System.out.printf("%d campaigns, seeds %d..%d, %d faults, %d requests, %d violations%n", runs, first, seed - 1, faultCount, requests, violations.size());
        System.out.print(dev.tandem.campaign.Availability.table(dev.tandem.campaign.Availability.of(rounds)));
        violations.forEach(System.out::println);
        System.exit(violations.isEmpty() ? 0 : 1);
    }
}
