package dev.tandem.testing;

import dev.tandem.config.ConfigLoader;
import dev.tandem.config.TandemConfig;
import dev.tandem.node.TandemNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** A real node in this JVM on a free loopback port, with its own data dir: for tests. */
public final class TestNode implements AutoCloseable {
    public final TandemNode node;
    public final Http http;
    public final Path dataDir;

    private TestNode(TandemNode node, Path dataDir) {
        this.node = node;
        this.dataDir = dataDir;
        this.http = Http.local(node.httpPort()).withToken(adminToken(dataDir));
    }

    /** A group of one serving the workflows in {@code workflowsDir}; {@code overrides} as for --set. */
    public static TestNode start(Path root, Path workflowsDir, String... overrides) throws Exception {
        Path dataDir = root.resolve("data");
        int groupPort = freePort();
        List<String> sets = new ArrayList<>(List.of("node.data_dir=" + dataDir, "group.secret_file=" + secret(root),
                "group.bind=127.0.0.1:" + groupPort, "group.members=[127.0.0.1:" + groupPort + "]",
                "http.bind=127.0.0.1:0", "workflows.dir=" + workflowsDir));
        sets.addAll(List.of(overrides));
        TandemConfig config = ConfigLoader.load(null, sets);
        return new TestNode(new TandemNode(config).start(), dataDir).awaitPrimary();
    }

    /** What a workflow learns of its node and group when there is none: for tests of the workflow engine alone. */
    public static final dev.tandem.workflows.NodeView NO_GROUP = new dev.tandem.workflows.NodeView() {
        @Override
        public String nodeStateJson() {
            return "{}";
        }

        @Override
        public String groupStateJson() {
            return "{}";
        }
    };

    /** The group's admin token the node wrote to {@code dataDir}. */
    public static String adminToken(Path dataDir) {
        try {
            return Files.readString(dataDir.resolve(dev.tandem.node.AdminToken.FILE)).strip();
        } catch (IOException e) {
            throw new IllegalStateException("no admin token in " + dataDir + ": " + e);
        }
    }

    public static int freePort() throws IOException {
        return Ports.free();
    }

    /** Waits until the node is primary (a group of one elects itself within a few heartbeats). */
    public TestNode awaitPrimary() {
        Await.until("the node of a group of one serving as primary", java.time.Duration.ofSeconds(30), () -> node.group().mayAcknowledge(),
                () -> "its decision: " + node.group().lastDecision());
        return this;
    }

    public static Path secret(Path dir) throws IOException {
        Path f = dir.resolve("cluster.key");
        if (!Files.exists(f)) {
            Files.createDirectories(dir);
            Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(f, "test-secret-0123456789abcdef\n");
        }
        return f;
    }

    @Override
    public void close() {
        node.close();
    }
}
