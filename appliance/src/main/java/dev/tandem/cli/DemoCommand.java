package dev.tandem.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A whole local group on loopback: node-a and node-b (data, the sample workflows deployed) and a
 * witness, each its own process (so you can kill -9 one and watch the failover). Ctrl-C stops all.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Start a local group (node-a, node-b, witness) on loopback with the sample workflows; Ctrl-C stops it.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR", description = "where the demo keeps its state (default: ${DEFAULT-VALUE})")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "tandem-demo");

    @Option(names = "--port", description = "HTTP port of node-a; node-b and the witness use the next two (default: ${DEFAULT-VALUE})")
    int port = 8080;

    @Option(names = "--group-port", description = "cluster port of node-a; the others use the next two (default: ${DEFAULT-VALUE})")
    int groupPort = 7800;

    record Member(String name, String kind, int http, int group) {}

    @Override
    public Integer call() throws Exception {
        Path samples = samplesDir();
        if (samples == null) {
            System.err.println("tandem: cannot find the sample workflows; run bin/tandem from a built checkout or set -Dtandem.home");
            return TandemCli.FAILED;
        }
        Files.createDirectories(dir);
        Path secret = ensureSecret(dir.resolve("cluster.key"));
        List<Member> members = List.of(new Member("node-a", "data", port, groupPort), new Member("node-b", "data", port + 1, groupPort + 1),
                new Member("witness", "witness", port + 2, groupPort + 2));
        String voters = members.stream().map(m -> "127.0.0.1:" + m.group()).toList().toString();
        List<Process> processes = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            processes.forEach(Process::destroy); // SIGTERM: each node stops cleanly
            for (Process p : processes) {
                try {
                    if (!p.waitFor(15, TimeUnit.SECONDS)) p.destroyForcibly();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            stopped.countDown();
        }, "demo-shutdown"));
        for (Member m : members) {
            Path nodeDir = dir.resolve(m.name());
            Files.createDirectories(nodeDir);
            if (m.kind().equals("data")) copyTree(samples, nodeDir.resolve("workflows"));
            Path config = nodeDir.resolve("tandem.yaml");
            Files.writeString(config, """
                    # written by `tandem demo`
                    node: {name: %s, kind: %s, priority: %d, data_dir: %s}
                    group: {bind: "127.0.0.1:%d", members: %s, secret_file: %s}
                    http: {bind: "127.0.0.1:%d"}
                    workflows: {dir: %s}
                    """.formatted(m.name(), m.kind(), m.name().equals("node-a") ? 150 : 100, nodeDir, m.group(), voters, secret,
                    m.http(), nodeDir.resolve("workflows")));
            processes.add(start(config, nodeDir.resolve("node.log"), m.kind().equals("witness")));
        }
        System.out.println("tandem demo: starting node-a, node-b and a witness; state and logs in " + dir);
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            if (!awaitReady(m.http(), processes.get(i), Duration.ofSeconds(120))) {
                System.err.println("tandem: " + m.name() + " did not start; see " + dir.resolve(m.name()).resolve("node.log"));
                return TandemCli.FAILED;
            }
            System.out.printf("  %-8s %-7s http://127.0.0.1:%d/   pid %d   log %s%n", m.name(), m.kind(), m.http(), processes.get(i).pid(),
                    dir.resolve(m.name()).resolve("node.log"));
        }
        System.out.println();
        System.out.println("  try:   curl http://127.0.0.1:" + port + "/workflows/hello/");
        System.out.println("         bin/tandem status --config " + dir.resolve("node-a").resolve("tandem.yaml")
                + "   (the CLI finds the node and its admin token from the configuration)");
        System.out.println("         curl http://127.0.0.1:" + port + "/health/primary   (200 only on the primary)");
        System.out.println("         kill -9 <pid of the primary>, then status again: the other node takes over");
        String password = adminLogin(port, Files.readString(dir.resolve("node-a").resolve(dev.tandem.node.AdminToken.FILE)).strip());
        System.out.println("  console: http://127.0.0.1:" + port + "/console/   (any node's /console/ works; it follows the group)");
        System.out.println("  login:   user admin, password " + password + (password.startsWith("(") ? "" : "   (a new password each demo run)"));
        System.out.println("           the API: POST /api/v1/login {\"user\": \"admin\", \"password\": \"...\"}");
        System.out.println("  admin: every /api/v1 request needs a token: a login's, or the group's in " + dir.resolve("node-a").resolve("admin.token"));
        System.out.println("  Ctrl-C stops the demo");
        stopped.await();
        return TandemCli.OK;
    }

    private Process start(Path config, Path log, boolean witness) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(witness ? dev.tandem.node.JvmOptions.WITNESS : dev.tandem.node.JvmOptions.DATA);
        cmd.addAll(List.of("-Dpolyglot.engine.WarnInterpreterOnly=false", "-Dpolyglotimpl.AttachLibraryFailureAction=ignore",
                "-Dpolyglot.engine.userResourceCache=" + dir.resolve("cache")));
        String home = System.getProperty("tandem.home");
        if (home != null) cmd.add("-Dtandem.home=" + home);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TandemCli.class.getName(), "run", "--config", config.toString()));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Sets user admin's password to a fresh random one (a replicated write, so it waits for a primary); returns it. */
    private static String adminLogin(int port, String adminToken) throws InterruptedException {
        String password = dev.tandem.admin.Passwords.newToken().substring(0, 16);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String last = "no answer";
        while (System.nanoTime() < end) {
            try {
                var r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/users")).timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + adminToken).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"user\": \"admin\", \"password\": \"" + password + "\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 201) return password;
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200); // polling interval of a wait with a deadline
        }
        return "(could not create the admin user: " + last + ")";
    }

    private static boolean awaitReady(int port, Process p, Duration deadline) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        long end = System.nanoTime() + deadline.toNanos();
        while (System.nanoTime() < end && p.isAlive()) {
            try {
                var r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).timeout(Duration.ofSeconds(1)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) return true;
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100); // polling interval of a wait with a deadline
        }
        return false;
    }

    /** The sample workflows: $tandem.home/sample-workflows (checkout) or /usr/share/tandem/sample-workflows (package). */
    static Path samplesDir() {
        for (String base : new String[] {System.getProperty("tandem.home"), "/usr/share/tandem"}) {
            if (base == null) continue;
            Path p = Path.of(base, "sample-workflows");
            if (Files.isDirectory(p)) return p;
        }
        return null;
    }

    static Path ensureSecret(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] raw = new byte[32];
            new SecureRandom().nextBytes(raw);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, Base64.getEncoder().encodeToString(raw) + "\n");
        }
        return file;
    }

    /** Copies each sample workflow folder (one with workflow.py) into {@code target}, replacing older copies. */
    static void copyTree(Path samples, Path target) throws IOException {
        Files.createDirectories(target);
        try (Stream<Path> folders = Files.list(samples)) {
            for (Path folder : folders.filter(p -> Files.isRegularFile(p.resolve("workflow.py"))).toList()) {
                Path dest = target.resolve(folder.getFileName().toString());
                try (Stream<Path> files = Files.walk(folder)) {
                    for (Path f : files.filter(f -> !f.toString().contains("__pycache__")).toList()) {
                        Path to = dest.resolve(folder.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(to);
                        } else {
                            Files.createDirectories(to.getParent());
                            Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
        }
    }
}
