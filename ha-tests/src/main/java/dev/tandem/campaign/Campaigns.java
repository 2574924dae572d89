package dev.tandem.campaign;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import dev.tandem.testing.Await;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Small helpers the workloads share. */
final class Campaigns {
    private Campaigns() {}

    /** POSTs until the node answers 201 (or 409: made already, by an earlier try whose answer was lost). */
    static void postUntilCreated(NodeProcess node, String path, String body) {
        Await.until("POST " + path + " on " + node.name, Duration.ofSeconds(30), () -> {
            try {
                HttpResponse<String> r = ProcessGroup.post(node, path, body, Duration.ofSeconds(5));
                if (r.statusCode() == 201 || r.statusCode() == 409) return true;
                throw new IllegalStateException(r.statusCode() + " " + r.body());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }
}
