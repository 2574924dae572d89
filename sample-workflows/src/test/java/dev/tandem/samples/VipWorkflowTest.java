package dev.tandem.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** vip on one real node, with commands that record what they were asked (the namespace test is in ha-tests). */
class VipWorkflowTest {
    @TempDir
    Path root;

    @Test
    void onLoadItReleasesLeftovers_thenClaimsWhenTheNodeBecomesPrimary() throws Exception {
        Path record = root.resolve("vip.log");
        String cmd = "[/bin/sh, -c, 'echo %s $TANDEM_NODE >> " + record + "']";
        try (TestNode node = TestNode.start(root, SampleNode.samplesDir(),
                "workflows.commands.vip_claim=" + cmd.formatted("claim"),
                "workflows.commands.vip_release=" + cmd.formatted("release"))) {
            JsonObject status = awaitHolding(node);
            assertThat(status.getBoolean("configured")).isTrue();
            assertThat(status.getString("role")).isEqualTo("PRIMARY");
            List<String> asked = Files.readAllLines(record);
            // the load call (not yet primary) releases, the promotion claims; nothing else
            assertThat(asked).containsExactly("release node-a", "claim node-a");
            assertThat(status.getJsonArray("history").getJsonObject(1).getString("action")).isEqualTo("claim");
        }
    }

    @Test
    void withoutItsCommandsItStaysIdleAndSaysWhatIsMissing() throws Exception {
        try (TestNode node = SampleNode.start(root)) {
            JsonObject status = node.http.get("/workflows/vip/").json();
            assertThat(status.getBoolean("configured")).isFalse();
            assertThat(status.getJsonArray("missing").getList()).containsExactly("vip_claim", "vip_release");
            assertThat(status.getBoolean("holding")).isFalse();
            assertThat(status.getJsonArray("history")).isEmpty();
        }
    }

    private static JsonObject awaitHolding(TestNode node) throws InterruptedException {
        long end = System.nanoTime() + 30_000_000_000L;
        while (true) {
            JsonObject s = node.http.get("/workflows/vip/").json();
            if (s.getBoolean("holding")) return s;
            if (System.nanoTime() > end) throw new AssertionError("vip never claimed: " + s.encodePrettily());
            Thread.sleep(20); // polling interval of a wait with a deadline
        }
    }
}
