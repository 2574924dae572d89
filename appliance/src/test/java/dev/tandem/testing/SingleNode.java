package dev.tandem.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's node: a group of one serving a folder of workflows from the test resources, started once
 * before the class's tests (and before its {@code @BeforeAll} methods) in a directory of its own, and closed
 * and removed after them, even when it failed to start.
 * <pre>
 *   &#64;RegisterExtension
 *   static final SingleNode single = SingleNode.serving("/workflows", "http.body_limit=2KiB");
 * </pre>
 */
public final class SingleNode implements BeforeAllCallback, AfterAllCallback {
    private final String workflowsResource;
    private final String[] overrides;
    private Runnable beforeStart = () -> {};
    private Runnable afterStop = () -> {};
    private Path root;
    private TestNode node;

    private SingleNode(String workflowsResource, String[] overrides) {
        this.workflowsResource = workflowsResource;
        this.overrides = overrides;
    }

    /** A node serving the workflows in the test resource folder {@code workflowsResource}; {@code overrides} as for --set. */
    public static SingleNode serving(String workflowsResource, String... overrides) {
        return new SingleNode(workflowsResource, overrides);
    }

    /** Runs {@code before} just before the node starts and {@code after} once it is closed (e.g. a log handler). */
    public SingleNode around(Runnable before, Runnable after) {
        this.beforeStart = before;
        this.afterStop = after;
        return this;
    }

    public TestNode node() {
        return node;
    }

    public Http http() {
        return node.http;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Class<?> test = context.getRequiredTestClass();
        root = Files.createTempDirectory("tandem-" + test.getSimpleName() + "-");
        var workflows = test.getResource(workflowsResource);
        if (workflows == null) throw new IllegalArgumentException("no test resource folder " + workflowsResource + " for " + test.getName());
        beforeStart.run();
        node = TestNode.start(root, Path.of(workflows.toURI()), overrides);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (node != null) node.close();
        } finally {
            afterStop.run();
            try (Stream<Path> all = Files.walk(root)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
