package dev.tandem.core;

import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import dev.tandem.core.GroupMessage.Ack;
import dev.tandem.core.GroupMessage.Status;
import dev.tandem.core.GroupState.LastStatus;
import dev.tandem.core.GroupState.Peer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The group as this member sees it: the view, what every member said in its last status, and, on the primary,
 * the acknowledgements its lease is made of. Part of {@link GroupState}; runs inside its step.
 */
final class Membership {
    /** Only scheme://host:port: the URL goes into CORS and CSP headers, where nothing else may ride along. */
    private static final Pattern ORIGIN =
            Pattern.compile("https?://[A-Za-z0-9.\\-]{1,253}:[0-9]{1,5}|https?://\\[[0-9A-Fa-f:.]{2,45}\\]:[0-9]{1,5}");

    private final GroupState g;
    private final GroupState.Settings s;
    private final String me;

    volatile List<String> view = List.of();
    volatile boolean connected;
    boolean coordinator;
    String coordinatorName;
    final Map<String, Peer> peers = new ConcurrentHashMap<>();
    final Set<String> knownHttp = ConcurrentHashMap.newKeySet();
    final Map<String, LastStatus> lastStatusByAddress = new ConcurrentHashMap<>();
    /** On the primary: the latest status (by its send time) each member acknowledged in the primary's term. */
    private final Map<String, Long> ackedSentAt = new LinkedHashMap<>();
    /** Statuses received before this are from an earlier picture of the group. */
    long viewSince;
    /** When this node first joined a view (it started), and whether any view since held another member. */
    long connectedAt;
    boolean seenOthers;
    private long lastTick;

    Membership(GroupState g, long now) {
        this.g = g;
        this.s = g.s;
        this.me = g.me;
        this.lastTick = now;
    }

    void ticked() {
        lastTick = g.now;
    }

    void onView(GroupInput.ViewChanged v) {
        long now = g.now;
        List<String> names = List.copyOf(v.members());
        List<String> before = view;
        view = names;
        if (!connected) connectedAt = now;
        if (names.size() > 1) seenOthers = true;
        connected = true;
        coordinator = v.coordinator();
        coordinatorName = v.coordinatorName();
        // statuses heard before this view stay valid only if members just left and this node did not stall
        // (a frozen node's own picture of the group is old when it wakes)
        boolean onlyLeft = before.containsAll(names);
        if (!onlyLeft || now - lastTick > 3 * s.heartbeatMs()) viewSince = now;
        for (String n : names) if (!before.contains(n) && !n.equals(me)) g.event(EventId.PEER_JOINED, Map.of("peer", n));
        for (String n : before) {
            if (!names.contains(n)) {
                peers.remove(n);
                ackedSentAt.remove(n);
                g.event(EventId.PEER_LOST, Map.of("peer", n));
                if (n.equals(g.primary)) {
                    g.elections.primaryLost();
                    g.setPrimary(null, null);
                }
            }
        }
        g.log("view: " + names + " (" + names.size() + " of " + s.voters() + " voters)");
        if (s.majority() && names.size() < s.voters() / 2 + 1) {
            if (g.role == NodeRole.PRIMARY || g.role == NodeRole.SECONDARY) {
                g.changeRole(NodeRole.NOT_IN_GROUP, g.term(), "lost quorum: " + names.size() + " of " + s.voters() + " voters visible", 0);
            }
        }
        g.elections.decide();
    }

    void onStatus(Status m) {
        long now = g.now;
        String from = m.name();
        MemberState st = new MemberState(from, m.witness(), m.priority(), m.role(), m.term(), m.lastTerm(), m.lsn());
        peers.put(from, new Peer(st, m.addr(), m.http(), now, m.maintenance(), m.maintenanceVersion()));
        String http = m.http();
        if (http != null && ORIGIN.matcher(http).matches() && knownHttp.size() < 64) knownHttp.add(http.toLowerCase(Locale.ROOT));
        String addr = m.addr();
        if (addr != null && (lastStatusByAddress.containsKey(addr) || lastStatusByAddress.size() < 64)) {
            lastStatusByAddress.put(addr, new LastStatus(from, st.witness(), http, st.priority(), st.lsn(), st.lastTerm(), now));
        }
        if (m.maintenanceVersion() > g.maintenanceVersion()) g.adoptMaintenance(m.maintenance(), m.maintenanceVersion(), "learned from " + from);
        if (st.term() > g.recordedTerm()) g.observeHigherTerm(st.term(), from);
        if (st.role() == NodeRole.PRIMARY) {
            if (st.term() < g.recordedTerm()) {
                g.send(from, g.statusMessage(now, g.data)); // tell the stale primary about the newer term at once
            } else if (g.role == NodeRole.PRIMARY && !from.equals(me)) {
                if (Election.yields(g.self(), st)) {
                    g.changeRole(NodeRole.SECONDARY, st.term(), "yields to primary " + from + " (term " + st.term() + ", priority " + st.priority() + ")", 0);
                }
            } else {
                g.elections.promiseLease(from);
                g.send(from, new Ack(me, st.term(), m.sentAt()));
                g.setPrimary(from, m.http());
            }
        } else if (from.equals(g.primary)) {
            g.setPrimary(null, null); // it stepped down
        }
        followerRole();
    }

    /** A non-primary data node: SECONDARY while in a quorate group with a primary, else NOT_IN_GROUP. */
    private void followerRole() {
        if (s.witness() || g.role == NodeRole.PRIMARY) return;
        boolean quorate = !s.majority() || view.size() >= s.voters() / 2 + 1;
        if (!quorate) {
            if (g.role != NodeRole.NOT_IN_GROUP) g.changeRole(NodeRole.NOT_IN_GROUP, g.term(), "lost quorum", 0);
        } else if (g.primary != null && g.role != NodeRole.SECONDARY) {
            g.changeRole(NodeRole.SECONDARY, g.term(), "following primary " + g.primary, 0);
        }
    }

    void onAck(Ack m) {
        if (g.role != NodeRole.PRIMARY || m.term() != g.roleTerm) return;
        acknowledged(m.from(), m.sentAt());
        renewLease();
    }

    /** {@code from} acknowledged (or voted for) this node's message sent at {@code sentAt}. */
    void acknowledged(String from, long sentAt) {
        ackedSentAt.merge(from, sentAt, Math::max);
    }

    /** Only the voters of the term just won count towards its lease. */
    void keepAcknowledgementsOf(Set<String> voters) {
        ackedSentAt.keySet().retainAll(voters);
    }

    void renewLease() {
        long[] acks = new long[Math.max(0, s.voters() - 1)];
        Arrays.fill(acks, Long.MIN_VALUE);
        int i = 0;
        for (String p : view) {
            if (p.equals(me) || i >= acks.length) continue;
            acks[i++] = ackedSentAt.getOrDefault(p, Long.MIN_VALUE);
        }
        g.leaseUntil = Lease.validUntil(g.now, acks, Election.votesNeeded(s.voters(), s.majority()), s.leaseMs());
    }
}
