package dev.tandem.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Scenario files for the real protocol code, in the manner of etcd-raft's datadriven tests: each file under
 * {@code src/test/resources/scenarios} is a runbook of commands, each followed by what it must print
 * ({@code > } lines). The world is {@link GroupSim} with a fixed seed and no random delays, so a scenario reads
 * the same every time. {@code -Dtandem.scenarios.rewrite=true} writes what the code prints now into the files
 * (then read the diff).
 *
 * <p>Commands: {@code group majority|none NAME:KIND[:PRIORITY]...}, {@code run MS}, {@code roles},
 * {@code decision NAME}, {@code kill NAME}, {@code restart NAME}, {@code isolate NAME}, {@code heal},
 * {@code pause NAME MS}, {@code hold TYPE [FROM [TO]]} (hold those messages in flight), {@code hold drain} (the
 * commits in flight when a primary stops acknowledging), {@code release},
 * {@code commit NAME N} (N commits past NAME's write gate, finishing when its commits drain), {@code data},
 * {@code view NAME MEMBER...} (a view delivered to one member now: early, late or partial; queued
 * ahead of what comes later if it is paused),
 * {@code write N}, {@code switchover NAME [TARGET]}, {@code maintenance NAME on|off}, {@code acking},
 * {@code logs NAME [TEXT]} (its protocol log lines since the last {@code logs NAME}, those containing TEXT).
 */
class GroupScenarioTest {
    static final Path DIR = Path.of("src/test/resources/scenarios");

    @TestFactory
    Stream<DynamicTest> scenarios() throws IOException {
        try (var files = Files.list(DIR)) {
            return files.filter(p -> p.toString().endsWith(".txt")).sorted().toList().stream()
                    .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> runFile(p)));
        }
    }

    static void runFile(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        List<String> rewritten = new ArrayList<>();
        Runner runner = new Runner();
        List<String> mismatches = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i++);
            if (line.isBlank() || line.startsWith("#")) {
                rewritten.add(line);
                continue;
            }
            List<String> expected = new ArrayList<>();
            while (i < lines.size() && lines.get(i).startsWith(">")) expected.add(lines.get(i++).replaceFirst("^> ?", ""));
            List<String> actual = runner.run(line.strip());
            rewritten.add(line);
            for (String a : actual) rewritten.add("> " + a);
            if (!actual.equals(expected)) {
                mismatches.add(file.getFileName() + ", `" + line.strip() + "`:\n  expected:\n    " + String.join("\n    ", expected)
                        + "\n  actual:\n    " + String.join("\n    ", actual));
            }
        }
        if (Boolean.getBoolean("tandem.scenarios.rewrite")) {
            Files.write(file, rewritten);
            return;
        }
        assertThat(mismatches).as("scenario " + file.getFileName()).isEmpty();
    }

    static final class Runner {
        GroupSim sim;

        List<String> run(String command) {
            String[] w = command.split("\\s+");
            List<String> out = new ArrayList<>();
            switch (w[0]) {
                case "group" -> {
                    String[] spec = java.util.Arrays.copyOfRange(w, 2, w.length);
                    sim = new GroupSim(1, w[1].equals("majority"), false, spec);
                    sim.maxDelay = 1;
                    sim.takeNotes();
                }
                case "run" -> {
                    long until = sim.now + Long.parseLong(w[1]);
                    while (sim.now < until) {
                        sim.run(Math.min(50, until - sim.now));
                        sim.catchUp(); // replication: secondaries copy their primary's history
                    }
                    out.addAll(sim.takeNotes());
                }
                case "roles" -> {
                    for (GroupSim.Member m : sim.members.values()) {
                        out.add(m.name + ": " + (m.up ? m.state.role() + " term " + m.state.term() + (m.state.primary() != null
                                ? ", primary " + m.state.primary() : "") + (m.paused ? " (paused)" : "") : "down"));
                    }
                }
                case "decision" -> out.add(sim.member(w[1]).state.lastDecision());
                case "kill" -> sim.crash(w[1]);
                case "restart" -> sim.restart(w[1]);
                case "isolate" -> sim.isolate(w[1]);
                case "heal" -> sim.heal();
                case "pause" -> sim.pause(w[1], Long.parseLong(w[2]));
                case "hold" -> {
                    if (w[1].equals("drain")) {
                        sim.holdDrain = true; // hold drain: commits in flight on a primary that stops acknowledging finish at `release`
                    } else { // hold TYPE [FROM [TO]]: those messages stay in flight until `release`
                        String type = w[1], from = w.length > 2 ? w[2] : null, to = w.length > 3 ? w[3] : null;
                        sim.hold = (f, t, m) -> GroupMessage.typeOf(m).equals(type) && (from == null || from.equals(f)) && (to == null || to.equals(t));
                    }
                }
                case "release" -> {
                    sim.hold = (f, t, m) -> false;
                    sim.release(); // what it leads to prints at the next `run`
                }
                case "commit" -> sim.commitInFlight(w[1], Integer.parseInt(w[2])); // commit NAME N: N commits past NAME's write gate, in flight
                case "data" -> {
                    for (GroupSim.Member m : sim.members.values()) {
                        out.add(m.name + ": " + (m.witness ? "no data" : "term " + m.lastTerm + ", lsn " + m.lsn
                                + (m.state.handedOverLsn() > 0 ? ", handed over at lsn " + m.state.handedOverLsn() : "")));
                    }
                }
                case "view" -> sim.forceView(w[1], List.of(java.util.Arrays.copyOfRange(w, 2, w.length))); // view NAME MEMBER...
                case "logs" -> { // logs NAME [TEXT]: NAME's protocol log lines since the last `logs NAME`, those containing TEXT
                    GroupSim.Member m = sim.member(w[1]);
                    String text = String.join(" ", java.util.Arrays.copyOfRange(w, 2, w.length));
                    for (String line : m.logLines.subList(m.logRead, m.logLines.size())) if (line.contains(text)) out.add(line);
                    m.logRead = m.logLines.size();
                }
                case "write" -> {
                    int n = Integer.parseInt(w[1]), ok = 0;
                    for (int k = 0; k < n; k++) if (sim.write()) ok++;
                    out.add(ok + " of " + n + " acknowledged");
                }
                case "switchover" -> sim.input(sim.member(w[1]), new GroupInput.SwitchoverRequested(w.length > 2 ? w[2] : null, "sw"));
                case "maintenance" -> sim.input(sim.member(w[1]), new GroupInput.MaintenanceSet(w[2].equals("on")));
                case "acking" -> out.add(sim.acking().isEmpty() ? "nobody may acknowledge writes" : sim.acking() + " may acknowledge writes");
                default -> throw new IllegalArgumentException("unknown scenario command: " + command);
            }
            return out;
        }
    }
}
