package dev.tandem.samples;

import dev.tandem.testing.TestNode;
import java.nio.file.Path;

/** A real node serving this module's sample workflow folders. */
final class SampleNode {
    private SampleNode() {}

    static Path samplesDir() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    }

    static TestNode start(Path root) throws Exception {
        return TestNode.start(root, samplesDir());
    }
}
