package dev.tandem.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HelloWorkflowTest {
    @TempDir
    Path root;

    @Test
    void helloAnswersWithTheNodesNameAndRole() throws Exception {
        try (TestNode node = SampleNode.start(root)) {
            var r = node.http.get("/workflows/hello/");
            assertThat(r.status()).isEqualTo(200);
            JsonObject body = r.json();
            assertThat(body.getString("node")).isEqualTo("node-a");
            assertThat(body.getString("role")).isEqualTo("PRIMARY");
            assertThat(node.http.get("/workflows/hello").status()).as("without the trailing slash too").isEqualTo(200);
        }
    }
}
