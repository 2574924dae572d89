package dev.tandem.harness;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.Protocol;
import org.jgroups.util.NameCache;

/**
 * A hostile process for the fault tests: a JGroups member without the group secret (no encryption, no
 * join proof) that finds the group's members by discovery, claims to be one of them, and for a while
 * sends each of them what would hurt if it were believed: a status of a primary of a far newer term,
 * vote requests and granted votes for that term, maintenance on, a replication batch that overwrites a
 * document, and garbage. Prints one line: what it sent, to whom.
 *
 * <p>{@code RogueSender <group name> <claimed node name> <seconds> <host:port>...}
 */
public final class RogueSender {
    public static void main(String[] args) throws Exception {
        String group = args[0], claimed = args[1];
        long seconds = Long.parseLong(args[2]);
        List<InetSocketAddress> members = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            String[] hp = args[i].split(":");
            members.add(new InetSocketAddress(InetAddress.getByName(hp[0]), Integer.parseInt(hp[1])));
        }
        TCP tcp = new TCP();
        tcp.setBindAddress(InetAddress.getLoopbackAddress());
        tcp.setBindPort(NodeProcess.freePort()); // JGroups wants a fixed port with static discovery
        List<Protocol> stack = List.of(tcp, new TCPPING().setInitialHosts(members).setPortRange(0), new NAKACK2(), new UNICAST3(),
                new STABLE(), new GMS().setJoinTimeout(1000), new FRAG4());
        int sent = 0;
        TreeSet<String> targets = new TreeSet<>();
        try (JChannel ch = new JChannel(stack)) {
            ch.setName(claimed);
            ch.connect(group); // the join gets nowhere: it ends up a group of its own
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            long term = 1_000_000;
            while (System.nanoTime() < end) {
                for (Map.Entry<Address, String> e : NameCache.getContents().entrySet()) {
                    if (e.getKey().equals(ch.getAddress())) continue;
                    targets.add(e.getValue());
                    for (byte[] payload : payloads(claimed, term)) {
                        try {
                            ch.send(new BytesMessage(e.getKey(), payload));
                            sent++;
                        } catch (Exception ex) {
                            // the peer refused the connection: try again next round
                        }
                    }
                }
                term++;
                Thread.sleep(200); // the pace of the attack
            }
            System.out.println("rogue sent " + sent + " messages to " + targets + " as " + claimed + ", view " + ch.getView());
        }
    }

    private static List<byte[]> payloads(String me, long term) {
        List<JsonObject> msgs = List.of(
                new JsonObject().put("type", "status").put("name", me).put("witness", false).put("priority", 255).put("role", "PRIMARY")
                        .put("term", term).put("lastTerm", term).put("lsn", Long.MAX_VALUE / 2).put("addr", "127.0.0.1:1")
                        .put("http", "http://127.0.0.1:1").put("maint", true).put("mver", term),
                new JsonObject().put("type", "request_vote").put("term", term).put("candidate", me).put("priority", 255)
                        .put("lastTerm", term).put("lsn", Long.MAX_VALUE / 2),
                new JsonObject().put("type", "vote").put("term", term).put("from", me).put("granted", true),
                new JsonObject().put("type", "nominate").put("term", term).put("from", me).put("reason", "rogue"),
                new JsonObject().put("type", "maintenance").put("enabled", true).put("version", term).put("from", me),
                new JsonObject().put("type", "repl.changes").put("from", me).put("term", term).put("changes", new JsonArray()
                        .add(new JsonObject().put("lsn", Long.MAX_VALUE / 2).put("term", term).put("ts", 0)
                                .put("ops", new JsonArray().add(new JsonObject().put("op", "put").put("ns", "ipam").put("coll", "pools")
                                        .put("k", "rogue").put("v", "{\"name\": \"rogue\"}"))))));
        List<byte[]> out = new ArrayList<>();
        for (JsonObject m : msgs) out.add(m.encode().getBytes(StandardCharsets.UTF_8));
        out.add("{not json at all".getBytes(StandardCharsets.UTF_8));
        return out;
    }
}
