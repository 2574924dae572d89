package dev.tandem.campaign;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The changes each data node preserved as divergent (GET /api/v1/divergent), by node, term and LSN: an
 * acknowledged write that is not in the group's history must be one of them (G3, reported, never silently
 * dropped).
 */
final class Divergence {
    private final Set<String> preserved = new HashSet<>();

    static Divergence of(List<NodeProcess> dataNodes) {
        Divergence d = new Divergence();
        for (NodeProcess n : dataNodes) {
            for (Object o : ProcessGroup.getJsonOk(n, "/api/v1/divergent?limit=10000", Duration.ofSeconds(20)).getJsonArray("changes")) {
                JsonObject c = (JsonObject) o;
                d.preserved.add(n.name + " " + c.getLong("term") + " " + c.getLong("lsn"));
            }
        }
        return d;
    }

    /** Whether {@code node} preserved its change of {@code term} at {@code lsn} as divergent. */
    boolean preserved(String node, long term, long lsn) {
        return preserved.contains(node + " " + term + " " + lsn);
    }

    int size() {
        return preserved.size();
    }
}
