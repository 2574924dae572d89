package dev.tandem.campaign;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * ipam as a set: each round allocates from a fresh pool, every request with an owner name never used
 * before. At the end of the round every acknowledged allocation is held by every data node, no address
 * is held twice, and nothing refused was allocated.
 */
final class IpamWorkload implements Workload {
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Override
    public String name() {
        return "ipam";
    }

    @Override
    public void setUp(NodeProcess primary) {}

    static String pool(int round) {
        return "r" + round;
    }

    @Override
    public void beginRound(int round, NodeProcess primary) {
        // a /112 holds 65,534 addresses: more than a round allocates
        String body = new JsonObject().put("name", pool(round)).put("cidr", "fd00:" + Integer.toHexString(round + 1) + "::/112").encode();
        Campaigns.postUntilCreated(primary, "/workflows/ipam/pools", body);
    }

    @Override
    public Op step(History history, int client, NodeProcess via, Random random, int round) {
        String owner = "r" + round + "-c" + client + "-" + random.nextInt(Integer.MAX_VALUE);
        return history.call(name(), client, via.name, via.url() + "/workflows/ipam/pools/" + pool(round) + "/allocations", owner, "POST",
                new JsonObject().put("owner", owner).encode(), TIMEOUT);
    }

    @Override
    public void check(int round, List<NodeProcess> dataNodes, List<Op> ops, Divergence divergence, List<String> violations) {
        Map<String, Op> byOwner = new HashMap<>();
        for (Op o : ops) if (o.workload().equals(name())) byOwner.put(o.key(), o);
        for (NodeProcess n : dataNodes) {
            Map<String, String> ownerToIp = new HashMap<>();
            Set<String> ips = new HashSet<>();
            for (JsonObject a : dev.tandem.harness.IpamClients.allocations(n.name, pool(round), p -> ProcessGroup.getJsonOk(n, p, Duration.ofSeconds(20)))) {
                String ip = a.getString("ip"), owner = a.getString("owner");
                if (!ips.add(ip)) violations.add("ipam: " + n.name + " holds " + ip + " twice (round " + round + ")");
                if (ownerToIp.put(owner, ip) != null) violations.add("ipam: " + n.name + " gave " + owner + " two addresses (round " + round + ")");
                Op op = byOwner.get(owner);
                if (op == null) violations.add("ipam: " + n.name + " holds " + ip + " for " + owner + ", which no client asked for");
                else if (op.outcome() == Op.Outcome.FAIL) violations.add("ipam: " + n.name + " holds " + ip + " for a refused request: " + op);
            }
            for (Op op : byOwner.values()) {
                if (op.outcome() != Op.Outcome.OK || ownerToIp.containsKey(op.key())) continue;
                if (op.servedBy() != null && divergence.preserved(op.servedBy(), op.term(), op.lsn())) continue; // G3: reported
                violations.add("ipam: an acknowledged allocation is missing on " + n.name + " and was not reported as divergent: " + op);
            }
        }
    }
}
