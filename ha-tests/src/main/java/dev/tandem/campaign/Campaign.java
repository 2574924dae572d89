package dev.tandem.campaign;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import dev.tandem.testing.Await;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A seeded fault campaign on real tandem processes. Clients of two workloads (ipam as a set, bank transfers)
 * write through both data nodes' addresses while faults drawn from the seed hit the group. After each fault:
 * the heal, a bounded wait for convergence, the clients stopped, and the checks over what the nodes hold and
 * what the clients saw (see {@link Checker}, {@link IpamWorkload}, {@link BankWorkload}). The same seed
 * replays the same faults.
 */
public final class Campaign {
    /** How long a group may take to converge after a heal before that is a violation. */
    public static final Duration CONVERGENCE = Duration.ofSeconds(30);
    static final int CLIENTS_PER_NODE = 2;
    /**
     * Each data node's disk. H2 keeps a commit's old pages for 45 s (its RETENTION_TIME), so a node that writes
     * alone at full speed (its peer restarting) grew its file by 230 MiB in 40 s: 256 MiB disks filled up without
     * any disk-full fault. The image is sparse; the filler of the disk-full fault only allocates.
     */
    static final int DISK_MIB = 2048;

    /** The two setups: a pair with a witness (quorum: majority), and a pair alone (quorum: none). */
    public enum Setup {
        MAJORITY(List.of("node-a", "node-b", "witness")), NONE(List.of("node-a", "node-b"));

        final List<String> members;

        Setup(List<String> members) {
            this.members = members;
        }

        boolean majority() {
            return this == MAJORITY;
        }
    }

    /** One fault's figures: writes back through each data node's address, failed requests by cause, convergence. */
    public record Round(int round, Fault fault, String target, Map<String, Long> writesBackMs, int requests, int calledUnreachable,
                        int groupRefused, long convergedMs) {}

    /** @param partitions how partitions were made: real links between network namespaces, or the fault endpoint */
    public record Result(Setup setup, long seed, List<Round> rounds, List<String> violations, int requests, Path history, String partitions) {}

    private Campaign() {}

    public static Result run(Path root, Setup setup, long seed, int faults, PrintStream out) throws Exception {
        List<Fault> schedule = Fault.schedule(seed, faults, setup.majority());
        out.printf("campaign %s seed %d: %d faults: %s%n", setup.name().toLowerCase(), seed, faults, schedule);
        Path workflows = workflowsDir(root.resolve("workflows"));
        List<Workload> workloads = List.of(new IpamWorkload(), new BankWorkload());
        History history = new History();
        List<Round> rounds = new ArrayList<>();
        List<String> violations = new ArrayList<>();
        // each data node's data_dir on a small filesystem of its own, where root allows it (the disk-full fault)
        Map<String, dev.tandem.harness.LoopDisk> disks = new java.util.concurrent.ConcurrentHashMap<>();
        // stopped by a signal (Ctrl-C, kill), even while its group starts: the nodes stop, then the disks are unmounted
        Thread cleanUp = new Thread(() -> {
            ProcessGroup.closeAll();
            try {
                new Disks(disks).close();
            } catch (Exception e) {
                System.err.println("campaign clean-up: " + e);
            }
        }, "campaign-clean-up");
        Runtime.getRuntime().addShutdownHook(cleanUp);
        try {
            return run(root, setup, seed, schedule, workflows, workloads, history, rounds, violations, disks, out);
        } finally {
            Runtime.getRuntime().removeShutdownHook(cleanUp);
        }
    }

    private static Result run(Path root, Setup setup, long seed, List<Fault> schedule, Path workflows, List<Workload> workloads, History history,
                              List<Round> rounds, List<String> violations, Map<String, dev.tandem.harness.LoopDisk> disks, PrintStream out) throws Exception {
        String noDisks = dev.tandem.harness.LoopDisk.unavailable();
        if (noDisks == null) {
            try {
                for (String d : List.of("node-a", "node-b")) {
                    disks.put(d, dev.tandem.harness.LoopDisk.create(root.resolve(d + ".img"), DISK_MIB, root.resolve(d).resolve("data")));
                }
            } catch (IOException e) { // e.g. a container that may not mount: the campaign goes on without that fault
                new Disks(disks).close();
                disks.clear();
                out.println("  (disk-full faults are skipped: " + e.getMessage() + ")");
            }
        } else if (schedule.stream().anyMatch(f -> f.kind() == Fault.Kind.DISK_FULL)) {
            out.println("  (disk-full faults are skipped: " + noDisks + ")");
        }
        String partitions;
        try (Disks unmount = new Disks(disks); ProcessGroup g = ProcessGroup.startForCampaign(root, workflows, setup.members, ", hook_timeout: 2s", network(setup, out))) {
            partitions = g.partitions();
            rounds(g, disks, workloads, history, setup, seed, schedule, rounds, violations, out);
        }
        Path file = root.resolve("history-" + setup.name().toLowerCase() + "-" + seed + ".jsonl");
        history.write(file);
        return new Result(setup, seed, rounds, violations, history.ops().size(), file, partitions);
    }

    /** Every fault of the schedule in turn, until one finds a violation (which is printed with the history around it). */
    private static void rounds(ProcessGroup g, Map<String, dev.tandem.harness.LoopDisk> disks, List<Workload> workloads, History history,
                               Setup setup, long seed, List<Fault> schedule, List<Round> rounds, List<String> violations, PrintStream out) throws Exception {
        List<NodeProcess> data = List.of(g.node("node-a"), g.node("node-b"));
        NodeProcess primary = g.awaitPrimaryAndSecondary(CONVERGENCE).primary();
        for (Workload w : workloads) w.setUp(primary);
        for (int i = 0; i < schedule.size() && violations.isEmpty(); i++) {
            Fault f = schedule.get(i);
            long[] faultAt = {System.nanoTime()};
            try {
                rounds.add(round(g, data, disks, workloads, history, setup, seed, i, f, faultAt, violations, out));
            } catch (AssertionError | RuntimeException e) { // a wait that timed out, a node that did not answer: a finding too
                violations.add("round " + i + " (" + f + "): " + e.getMessage() + "\n" + g.describe());
            }
            if (!violations.isEmpty()) {
                out.println("seed " + seed + ", faults " + schedule + "\nviolations:\n  " + String.join("\n  ", violations)
                        + "\nhistory around the fault:\n" + history.around(faultAt[0], 40));
            }
        }
    }

    /**
     * Each member in a network namespace of its own, so that a partition cuts real links, where the machine
     * allows it (root); else null: loopback, and the fault endpoint cuts. {@code -Dtandem.campaign.netns=false}
     * asks for the fault endpoint.
     */
    private static dev.tandem.harness.NetNamespaces network(Setup setup, PrintStream out) throws InterruptedException {
        String why = Boolean.parseBoolean(System.getProperty("tandem.campaign.netns", "true")) ? dev.tandem.harness.NetNamespaces.unavailable()
                : "-Dtandem.campaign.netns=false";
        if (why == null) {
            try {
                dev.tandem.harness.NetNamespaces net = dev.tandem.harness.NetNamespaces.create(setup.members);
                out.println("  partitions: network namespaces, members at " + setup.members.stream().map(net::host).toList());
                return net;
            } catch (IOException e) {
                why = e.getMessage();
            }
        }
        out.println("  partitions: the fault endpoint (no network namespaces: " + why + ")");
        return null;
    }

    /** One fault: clients start, the fault and its heal, convergence, clients stop, the checks. */
    private static Round round(ProcessGroup g, List<NodeProcess> data, Map<String, dev.tandem.harness.LoopDisk> disks, List<Workload> workloads,
                               History history, Setup setup, long seed, int i, Fault f, long[] faultAt, List<String> violations,
                               PrintStream out) throws Exception {
        NodeProcess primary = g.awaitPrimaryAndSecondary(CONVERGENCE).primary();
        for (Workload w : workloads) w.beginRound(i, primary);
        int opsBefore = history.ops().size();
        long roundStart = System.nanoTime();
        Clients clients = new Clients(history, workloads, data, seed * 1_000_003L + i, i);
        long converged;
        try {
            Await.until("the clients' first acknowledged writes", Duration.ofSeconds(20), () -> clients.acknowledgedSince(roundStart) >= 10);
            String target = resolve(g, f.target(), setup);
            faultAt[0] = System.nanoTime();
            history.note("fault " + i + ": " + f + " (" + target + ")");
            apply(g, f, target, disks.get(target));
            long healedAt = System.nanoTime();
            history.note("healed " + i);
            try {
                converged = Await.until("the group converged after " + f, CONVERGENCE, () -> converged(g, data)).toMillis();
            } catch (AssertionError e) {
                throw new AssertionError("convergence: no primary with an in-sync secondary within " + CONVERGENCE + " of healing " + f);
            }
            Await.until("writes after the heal", Duration.ofSeconds(20), () -> clients.acknowledgedSince(healedAt) >= 5);
            clients.stop();
            quiesce(data);
            List<Op> all = history.ops();
            List<Op> roundOps = all.subList(opsBefore, all.size());
            Divergence divergence = setup.majority() ? new Divergence() : Divergence.of(data);
            List<String> found = new ArrayList<>();
            if (setup.majority()) Checker.noTwoPrimaries(all, found);
            for (Workload w : workloads) w.check(i, data, roundOps, divergence, found);
            Checker.hooksOncePerRoleChange(data, Duration.ofSeconds(20), found);
            Round r = figures(i, f, target, roundOps, data, faultAt[0], converged);
            out.printf("  %2d %-34s %-8s writes back %s, %4d requests (%d to a node down, %d refused by the group), converged in %d ms%s%s%n",
                    i, f, target, r.writesBackMs(), r.requests(), r.calledUnreachable(), r.groupRefused(), converged, diskUse(disks),
                    found.isEmpty() ? "" : "  VIOLATION");
            violations.addAll(found);
            return r;
        } finally {
            clients.stop();
        }
    }

    private static String diskUse(Map<String, dev.tandem.harness.LoopDisk> disks) throws IOException {
        if (disks.isEmpty()) return "";
        Map<String, Long> used = new LinkedHashMap<>();
        for (var d : disks.entrySet()) used.put(d.getKey(), d.getValue().usedMiB());
        return ", data_dir MiB used " + used;
    }

    /** Unmounts the loop disks when the campaign ends; declared before the group, so it closes after the group's processes. */
    private record Disks(Map<String, dev.tandem.harness.LoopDisk> all) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            for (var d : all.values()) d.close();
        }
    }

    /** The campaign's workflows: ipam (the sample), bank and chaos (ha-tests/workflows). */
    static Path workflowsDir(Path dir) throws IOException {
        Path home = NodeProcess.home();
        for (Path src : List.of(home.resolve("sample-workflows/ipam"), home.resolve("ha-tests/workflows/bank"), home.resolve("ha-tests/workflows/chaos"))) {
            Path to = dir.resolve(src.getFileName().toString());
            Files.createDirectories(to);
            Files.copy(src.resolve("workflow.py"), to.resolve("workflow.py"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    private static String resolve(ProcessGroup g, String role, Setup setup) {
        if (role.equals("witness")) return setup.majority() ? "witness" : "node-b";
        String p = g.awaitPrimary(CONVERGENCE).name;
        return role.equals("primary") ? p : p.equals("node-a") ? "node-b" : "node-a";
    }

    /** Carries out the fault and its heal. The hold is the fault's length, not a wait for anything. */
    private static void apply(ProcessGroup g, Fault f, String target, dev.tandem.harness.LoopDisk disk) throws Exception {
        NodeProcess n = g.node(target);
        switch (f.kind()) {
            case KILL9 -> {
                g.kill9(target);
                hold(f);
                n.start().awaitStatus200("/health/ready", Duration.ofSeconds(120));
            }
            case FREEZE -> {
                g.freeze(target);
                hold(f);
                g.thaw(target);
            }
            case RESTART -> {
                if (n.terminate(Duration.ofSeconds(20)) < 0) n.kill9(); // a clean stop that hangs is a finding of its own: the log says so
                n.start().awaitStatus200("/health/ready", Duration.ofSeconds(120));
            }
            case PARTITION -> {
                g.isolate(target);
                hold(f);
                g.heal();
            }
            case SWITCHOVER -> g.switchover(target, target.equals("node-a") ? "node-b" : "node-a");
            case MAINTENANCE -> {
                g.maintenance(target, true);
                hold(f);
                g.maintenance(target, false);
            }
            case DISK_FULL -> {
                if (disk == null) return; // no loop disks here: said at the start
                long mark = n.logLength();
                disk.fill();
                hold(f);
                disk.free();
                // as systemd would (Restart=on-failure): a node whose store failed stops by itself (exit 75), and is
                // started again once it has; one that wrote nothing while the disk was full goes on as it was. Which
                // of the two it is may show only after the space is back: a write that hit the full disk can fail (and
                // be logged) a little later, so the harness waits until the node either said its store failed or
                // committed a change after the free (a failed store commits nothing more)
                long lsnAfterFree = lsnOrNone(n);
                Await.until(target + " stopped after its store failed, or committed again after the disk was freed", CONVERGENCE,
                        () -> storeFailed(n, mark) || !n.alive() || lsnAfterFree >= 0 && lsnOrNone(n) > lsnAfterFree);
                if (storeFailed(n, mark)) {
                    Await.until(target + " stopped after its store failed", Duration.ofSeconds(30), () -> !n.alive());
                    if (n.exitCode() != dev.tandem.cli.TandemCli.STORE_FAILED) {
                        throw new AssertionError(target + " stopped with exit code " + n.exitCode() + " after its store failed, not "
                                + dev.tandem.cli.TandemCli.STORE_FAILED + ": systemd (Restart=on-failure, SuccessExitStatus=143) would not restart it");
                    }
                }
                if (!n.alive()) n.start().awaitStatus200("/health/ready", Duration.ofSeconds(120));
            }
            case HOOK_FAIL, HOOK_HANG -> {
                String mode = f.kind() == Fault.Kind.HOOK_FAIL ? "fail" : "hang";
                for (String d : List.of("node-a", "node-b")) hookMode(g.node(d), mode);
                g.switchover(target, target.equals("node-a") ? "node-b" : "node-a");
                hold(f);
                for (String d : List.of("node-a", "node-b")) hookMode(g.node(d), "ok");
            }
        }
    }

    private static boolean storeFailed(NodeProcess n, long logMark) {
        return n.logSince(logMark).contains("stops: its store failed");
    }

    /** The node's last LSN, or -1 when it does not answer (stopping, say). */
    private static long lsnOrNone(NodeProcess n) {
        try {
            return ProcessGroup.getJson(n, "/api/v1/node", Duration.ofMillis(500)).getLong("lsn", -1L);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static void hold(Fault f) throws InterruptedException {
        Thread.sleep(f.holdMs()); // the fault lasts this long (the schedule), then it is healed
    }

    private static void hookMode(NodeProcess n, String mode) throws IOException, InterruptedException {
        HttpResponse<String> r = ProcessGroup.post(n, "/workflows/chaos/mode", "{\"mode\": \"" + mode + "\"}", Duration.ofSeconds(10));
        if (r.statusCode() != 200) throw new IllegalStateException(n.name + ": hook mode " + mode + ": " + r.statusCode() + " " + r.body());
    }

    /**
     * Every process up, both data nodes seeing every member in their view (a healed partition has merged), a
     * primary, and the other data node its in-sync secondary.
     */
    private static boolean converged(ProcessGroup g, List<NodeProcess> data) {
        for (NodeProcess n : g.nodes.values()) if (!n.alive() || n.frozen() || n.status("/health/ready", Duration.ofMillis(500)) != 200) return false;
        for (NodeProcess n : data) {
            try {
                var group = ProcessGroup.getJson(n, "/api/v1/group", Duration.ofMillis(500));
                if (group.getInteger("visible", 0) < group.getInteger("voters", Integer.MAX_VALUE)) return false;
            } catch (RuntimeException e) { // no answer in time: not converged yet
                return false;
            }
        }
        NodeProcess p = data.stream().filter(n -> n.status("/health/primary", Duration.ofMillis(500)) == 200).findFirst().orElse(null);
        if (p == null) return false;
        NodeProcess s = p == data.get(0) ? data.get(1) : data.get(0);
        return s.status("/health/secondary", Duration.ofMillis(500)) == 200;
    }

    /** Waits until both data nodes hold the same last LSN and it stays so for a second: nothing is in flight. */
    private static void quiesce(List<NodeProcess> data) {
        long[] last = {-1};
        long[] since = {System.nanoTime()};
        Await.until("both data nodes at the same LSN, for a second", CONVERGENCE, () -> {
            long a = ProcessGroup.getJson(data.get(0), "/api/v1/node").getLong("lsn", -1L);
            long b = ProcessGroup.getJson(data.get(1), "/api/v1/node").getLong("lsn", -2L);
            if (a != b || a != last[0]) {
                last[0] = a == b ? a : -1;
                since[0] = System.nanoTime();
                return false;
            }
            return System.nanoTime() - since[0] >= 1_000_000_000L;
        });
    }

    /** The round's availability figures. */
    private static Round figures(int i, Fault f, String target, List<Op> ops, List<NodeProcess> data, long faultAt, long convergedMs) {
        Map<String, Long> back = new LinkedHashMap<>();
        for (NodeProcess n : data) {
            back.put(n.name, ops.stream().filter(o -> o.via().equals(n.name) && o.outcome() == Op.Outcome.OK && o.invoke() >= faultAt)
                    .mapToLong(o -> (o.complete() - faultAt) / 1_000_000).min().orElse(-1));
        }
        int unreachable = (int) ops.stream().filter(Op::calledAnUnreachableNode).count();
        int refused = (int) ops.stream().filter(o -> o.outcome() != Op.Outcome.OK && o.status() >= 500).count();
        return new Round(i, f, target, back, ops.size(), unreachable, refused, convergedMs);
    }

    /** The clients of every workload, CLIENTS_PER_NODE per data node each, until {@link #stop()}. */
    static final class Clients {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();
        private final History history;

        Clients(History history, List<Workload> workloads, List<NodeProcess> via, long seed, int round) {
            this.history = history;
            int id = 0;
            for (Workload w : workloads) {
                for (NodeProcess n : via) {
                    for (int k = 0; k < CLIENTS_PER_NODE; k++) {
                        int client = id++;
                        Random random = new Random(seed * 31 + client);
                        Thread t = new Thread(() -> {
                            while (running.get()) {
                                Op op = w.step(history, client, n, random, round);
                                // the clients' pace; a node that does not answer is tried again a little later, not in a flood
                                NodeProcess.pause(op.status() == -1 ? 100 : 5);
                            }
                        }, "campaign-" + w.name() + "-" + client);
                        t.setDaemon(true);
                        t.start();
                        threads.add(t);
                    }
                }
            }
        }

        long acknowledgedSince(long nanos) {
            return history.acknowledgedSince(nanos);
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) t.join();
        }
    }
}
