package dev.tandem.ha;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * G4 on real processes: a secondary killed with kill -9 misses 100,000 changes, restarts, catches up
 * from the change log without operator action, and then holds exactly the primary's data. The
 * workflow that writes them is deployed through the API while both nodes run, so the restarted node
 * also shows that a deployed workflow comes back with it.
 */
class CatchUpTest {
    static final int CHANGES = 100_000, PER_REQUEST = 5_000;
    @TempDir
    Path root;

    @Test
    void aSecondaryThatMissed100000ChangesCatchesUpAndMatchesThePrimary() throws Exception {
        try (ProcessGroup g = ProcessGroup.start(root)) {
            ProcessGroup.Pair pair = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60));
            NodeProcess p = pair.primary(), s = pair.secondary();
            HttpResponse<String> deployed = deploy(p, "bulk", Path.of(CatchUpTest.class.getResource("/bulk/workflow.py").toURI()));
            assertThat(deployed.statusCode()).as(deployed.body()).isEqualTo(201);
            dev.tandem.testing.Await.until("bulk deployed on the secondary", Duration.ofSeconds(60), () -> s.status("/workflows/bulk/digest", Duration.ofSeconds(5)) == 200);

            s.kill9();
            long before = ProcessGroup.getJson(p, "/api/v1/node").getLong("lsn");
            for (int start = 0; start < CHANGES; start += PER_REQUEST) {
                var r = ProcessGroup.post(p, "/workflows/bulk/write", "{\"start\": " + start + ", \"n\": " + PER_REQUEST + "}", Duration.ofMinutes(2));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
            long missed = ProcessGroup.getJson(p, "/api/v1/node").getLong("lsn") - before;
            assertThat(missed).isGreaterThanOrEqualTo(CHANGES);

            s.start();
            long t0 = System.nanoTime();
            s.awaitStatus200("/health/secondary", Duration.ofMinutes(5));
            System.out.printf("%s caught up %d changes in %d ms after its restart%n", s.name, missed, (System.nanoTime() - t0) / 1_000_000);
            JsonObject onPrimary = ProcessGroup.getJson(p, "/workflows/bulk/digest", Duration.ofMinutes(1));
            assertThat(onPrimary.getInteger("count")).isEqualTo(CHANGES);
            assertThat(ProcessGroup.getJson(s, "/workflows/bulk/digest", Duration.ofMinutes(1))).isEqualTo(onPrimary);
            // the scheduler sample commits on the primary all the time: two reads at two moments race it, so ask
            // what must hold, that the secondary reaches every change the primary had when we looked
            long primaryLsn = ProcessGroup.getJson(p, "/api/v1/node").getLong("lsn");
            dev.tandem.testing.Await.until("the secondary has every change the primary had", Duration.ofSeconds(60),
                    () -> ProcessGroup.getJson(s, "/api/v1/node").getLong("lsn") >= primaryLsn);
        }
    }

    static HttpResponse<String> deploy(NodeProcess n, String name, Path workflowPy) throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        try (var zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("workflow.py"));
            zip.write(Files.readAllBytes(workflowPy));
            zip.closeEntry();
        }
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(n.url() + "/api/v1/workflows?name=" + name))
                .timeout(Duration.ofSeconds(60)).header("content-type", "application/zip").header("Authorization", "Bearer " + n.adminToken())
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    }
}
