package dev.tandem.http;

import dev.tandem.api.NodeRole;
import dev.tandem.cluster.GroupMember;
import dev.tandem.config.TandemConfig;
import dev.tandem.core.GroupState;
import dev.tandem.core.MemberState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;

/** The group as the admin API shows it: {@code GET /api/v1/node} and {@code GET /api/v1/group} (SPEC 5), from the protocol's state. */
public final class GroupJson {
    private GroupJson() {}

    /** This node (any thread). */
    public static JsonObject node(GroupMember g) {
        TandemConfig config = g.config();
        GroupState st = g.state();
        dev.tandem.core.RoleState r = g.roleState();
        long now = GroupMember.now();
        JsonObject o = new JsonObject().put("name", g.name()).put("kind", config.isWitness() ? "witness" : "data").put("role", r.role().name())
                .put("term", r.term()).put("priority", config.node().priority()).put("group", config.group().name())
                .put("primary", r.primary()).put("address", config.group().bind().toString()).put("http", st.httpUrl())
                .put("maintenance", st.maintenance()).put("last_decision", st.lastDecision())
                .put("lease_ms", r.role() == NodeRole.PRIMARY ? Math.max(0, r.leaseUntil() - now) : 0);
        if (!config.isWitness()) {
            GroupState.Data d = g.data();
            o.put("lsn", d.lastLsn()).put("last_term", d.lastTerm()).put("lag", Math.max(0, primaryLsn(g, d.lastLsn()) - d.lastLsn()));
        }
        return o;
    }

    /** The primary's last LSN as far as this node knows: its own when primary, else the primary's last status. */
    private static long primaryLsn(GroupMember g, long myLsn) {
        dev.tandem.core.RoleState r = g.roleState();
        String p = r.primary();
        return r.role() == NodeRole.PRIMARY ? myLsn : g.state().peers().values().stream()
                .filter(x -> x.state().name().equals(p)).mapToLong(x -> x.state().lsn()).findFirst().orElse(myLsn);
    }

    /** The group as this node sees it, read on the group thread. */
    public static CompletableFuture<JsonObject> group(GroupMember g) {
        return g.onGroupThread(() -> {
            TandemConfig config = g.config();
            GroupState st = g.state();
            long now = GroupMember.now();
            long myLsn = g.data().lastLsn();
            long primaryLsn = primaryLsn(g, myLsn);
            var view = st.view();
            var peers = st.peers();
            JsonArray nodes = new JsonArray();
            nodes.add(node(g).put("state", "up").put("heartbeat_age_ms", 0).put("lag", config.isWitness() ? 0 : Math.max(0, primaryLsn - myLsn)));
            for (GroupState.Peer p : peers.values()) {
                MemberState s = p.state();
                nodes.add(new JsonObject().put("name", s.name()).put("kind", s.witness() ? "witness" : "data").put("role", s.role().name())
                        .put("address", p.address())
                        .put("term", s.term()).put("priority", s.priority()).put("http", p.http()).put("lsn", s.lsn())
                        .put("last_term", s.lastTerm()).put("lag", s.witness() ? 0 : Math.max(0, primaryLsn - s.lsn()))
                        .put("heartbeat_age_ms", now - p.receivedAt()).put("state", view.contains(s.name()) ? "up" : "lost"));
            }
            for (TandemConfig.Address a : config.group().members()) {
                // voters not in touch are listed by address so the operator sees the whole group
                boolean known = a.equals(config.group().bind()) || peers.values().stream().anyMatch(p -> a.toString().equals(p.address()));
                if (known) continue;
                GroupState.LastStatus last = st.lastStatus(a.toString());
                JsonObject n = new JsonObject().put("address", a.toString()).put("state", "unreachable");
                if (last != null) {
                    // lost since it last spoke: named, with what it last said (its role is unknown now)
                    n.put("name", last.name()).put("kind", last.witness() ? "witness" : "data").put("http", last.http())
                            .put("priority", last.priority()).put("lsn", last.lsn()).put("last_term", last.lastTerm())
                            .put("role", "UNKNOWN").put("heartbeat_age_ms", now - last.at());
                }
                nodes.add(n);
            }
            int voters = config.group().members().size();
            return new JsonObject().put("name", config.group().name()).put("term", g.term()).put("primary", g.primary())
                    .put("quorum", config.group().quorum() == TandemConfig.Quorum.MAJORITY ? "majority" : "none").put("voters", voters)
                    .put("visible", view.size()).put("maintenance", st.maintenance()).put("last_decision", st.lastDecision())
                    .put("replication", g.replicationInfo()).put("nodes", nodes);
        });
    }
}
