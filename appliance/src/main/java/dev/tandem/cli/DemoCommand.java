package dev.tandem.cli;

import dev.tandem.config.ConfigException;
import dev.tandem.config.ConfigLoader;
import dev.tandem.config.TandemConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", description = "Start a local demo on loopback with the sample workflows deployed; Ctrl-C stops it.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR", description = "where the demo keeps its state (default: ${DEFAULT-VALUE})")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "tandem-demo");

    @Option(names = "--port", description = "HTTP port of the first node (default: ${DEFAULT-VALUE})")
    int port = 8080;

    @Override
    public Integer call() throws Exception {
        Path samples = samplesDir();
        if (samples == null) {
            System.err.println("tandem: cannot find the sample workflows; run bin/tandem from a built checkout or set -Dtandem.home");
            return TandemCli.FAILED;
        }
        Files.createDirectories(dir);
        Path secret = ensureSecret(dir.resolve("cluster.key"));
        Path nodeDir = dir.resolve("node-a");
        Path workflows = nodeDir.resolve("workflows");
        copyTree(samples, workflows);
        TandemConfig config;
        try {
            config = ConfigLoader.load(null, List.of(
                    "node.name=node-a", "node.data_dir=" + nodeDir, "group.secret_file=" + secret,
                    "http.bind=127.0.0.1:" + port, "workflows.dir=" + workflows));
        } catch (ConfigException e) {
            return ConfigOptions.report(e);
        }
        System.out.println("tandem demo: state in " + dir);
        System.out.println("  node-a  http://127.0.0.1:" + port + "/   (try: curl http://127.0.0.1:" + port + "/workflows/hello/)");
        System.out.println("  Ctrl-C stops the demo");
        return RunCommand.runUntilStopped(config);
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
                    for (Path f : files.toList()) {
                        Path to = dest.resolve(folder.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            if (!f.getFileName().toString().equals("__pycache__")) Files.createDirectories(to);
                        } else if (!f.toString().contains("__pycache__")) {
                            Files.createDirectories(to.getParent());
                            Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
        }
    }
}
