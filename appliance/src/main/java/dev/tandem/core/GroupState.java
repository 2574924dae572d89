package dev.tandem.core;

import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import dev.tandem.core.GroupMessage.Ack;
import dev.tandem.core.GroupMessage.Maintenance;
import dev.tandem.core.GroupMessage.Nominate;
import dev.tandem.core.GroupMessage.RequestVote;
import dev.tandem.core.GroupMessage.Resign;
import dev.tandem.core.GroupMessage.Status;
import dev.tandem.core.GroupMessage.Switchover;
import dev.tandem.core.GroupMessage.SwitchoverDone;
import dev.tandem.core.GroupMessage.Vote;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One member's side of the group protocol as a state machine, in the style of etcd-raft: every input
 * (a heartbeat tick, a view change, a message, an operator's request) goes through {@link #step}, with the
 * time and this node's data passed in, and comes out as data: the {@link GroupEffect}s to carry out, in order.
 * Nothing here reads a clock, touches the network or a file, or knows JSON: the driver
 * ({@code cluster.GroupMember}) does, so the same code runs in the real node and in the simulation tests.
 *
 * <p>This class holds the role, the durable term and the step in progress, and routes each input to the part
 * of the protocol it concerns, each of which keeps its own state:
 * <ul>
 *   <li>{@link Membership}: views, statuses, acknowledgements and the primary's lease;</li>
 *   <li>{@link Elections}: the coordinator's decision, nominations, votes (with the lease promise) and winning;</li>
 *   <li>{@link Switchovers}: requests, relays and the handover.</li>
 * </ul>
 *
 * <p>Called on one thread; the getters may be read from others (the fields they read are volatile or
 * concurrent), as HTTP and replication do.
 */
public final class GroupState {
    /**
     * What the protocol needs from the configuration. Times in milliseconds. {@code slot} is this node's place in
     * {@code group.members} (0-based; -1 if it is not listed): with {@code quorum: none} it makes the terms a node
     * can take alone its own (see {@link Elections#ownTerm}).
     */
    public record Settings(String me, boolean witness, int priority, int voters, boolean majority, boolean preempt,
                           long heartbeatMs, long leaseMs, long failureTimeoutMs, long syncTimeoutMs, String address, int slot) {}

    /** This node's data as the store reports it when the input arrives (0, 0 on a witness). */
    public record Data(long lastTerm, long lastLsn) {
        public static final Data NONE = new Data(0, 0);
    }

    /** What a member last said in its status. */
    public record Peer(MemberState state, String address, String http, long receivedAt, boolean maintenance, long maintenanceVersion) {}

    /** What a member said last, by group address: a member lost since is still shown by name. */
    public record LastStatus(String name, boolean witness, String http, int priority, long lsn, long lastTerm, long at) {}

    final Settings s;
    final String me;
    final Membership membership;
    final Elections elections;
    final Switchovers switchovers;

    // --- durable, mirrored here (the driver persists them when told) ---
    private volatile long term;
    private volatile String votedFor;
    private volatile boolean maintenance;
    private volatile long maintenanceVersion;

    // --- role ---
    volatile NodeRole role;
    volatile long roleTerm;
    volatile String primary;
    volatile String primaryHttp;
    volatile long leaseUntil = Long.MIN_VALUE;
    volatile long handedOverLsn;
    volatile boolean handingOver;
    volatile String lastDecision = "starting";
    private volatile String httpUrl = "";

    // --- the step in progress ---
    private List<GroupEffect> out;
    long now;
    Data data;

    /** @param term, votedFor, maintenance, maintenanceVersion what this node recorded durably before it stopped last */
    public GroupState(Settings settings, long term, String votedFor, boolean maintenance, long maintenanceVersion, long now) {
        this.s = settings;
        this.me = settings.me();
        this.term = term;
        this.votedFor = votedFor;
        this.maintenance = maintenance;
        this.maintenanceVersion = maintenanceVersion;
        this.role = settings.witness() ? NodeRole.WITNESS : NodeRole.NOT_IN_GROUP;
        this.membership = new Membership(this, now);
        this.elections = new Elections(this);
        this.switchovers = new Switchovers(this);
    }

    public void setHttpUrl(String url) {
        this.httpUrl = url == null ? "" : url;
    }

    /** This node's HTTP URL as it announces it ("" until set). */
    public String httpUrl() {
        return httpUrl;
    }

    /** Feeds one input; returns what to do about it, in order. */
    public List<GroupEffect> step(GroupInput in, long now, Data data) {
        this.out = new ArrayList<>();
        this.now = now;
        this.data = data == null ? Data.NONE : data;
        try {
            if (in instanceof GroupInput.Tick) {
                tick();
            } else if (in instanceof GroupInput.ViewChanged v) {
                membership.onView(v);
            } else if (in instanceof GroupInput.Received r) {
                onMessage(r.message());
            } else if (in instanceof GroupInput.SwitchoverRequested r) {
                switchovers.request(new Switchover(me, r.target(), r.id()), now + s.failureTimeoutMs() + 2000);
            } else if (in instanceof GroupInput.MaintenanceSet m) {
                long version = maintenanceVersion + 1;
                adoptMaintenance(m.enabled(), version, "set on " + me);
                broadcast(new Maintenance(me, m.enabled(), version));
            } else if (in instanceof GroupInput.CommitsDrained) {
                switchovers.startHandover();
            } else if (in instanceof GroupInput.VoteDue v) {
                elections.voteDue(v);
            } else if (in instanceof GroupInput.Closing) {
                if (role == NodeRole.PRIMARY) {
                    handingOver = true;
                    broadcast(new Resign(me, roleTerm));
                }
            }
            return out;
        } finally {
            this.out = null;
        }
    }

    private void tick() {
        membership.ticked();
        broadcast(statusMessage(now, data));
        if (role == NodeRole.PRIMARY) membership.renewLease();
        elections.lapse();
        switchovers.retryPending();
        switchovers.progress();
        elections.decide();
    }

    void onMessage(GroupMessage m) {
        if (m instanceof Status st) {
            membership.onStatus(st);
        } else if (m instanceof Ack a) {
            membership.onAck(a);
        } else if (m instanceof Nominate n) {
            elections.onNominate(n);
        } else if (m instanceof RequestVote r) {
            elections.onRequestVote(r);
        } else if (m instanceof Vote v) {
            elections.onVote(v);
        } else if (m instanceof Resign r) {
            elections.resigned(r.from());
        } else if (m instanceof Switchover sw) {
            switchovers.onSwitchover(sw);
        } else if (m instanceof SwitchoverDone d) {
            out.add(new GroupEffect.SwitchoverFinished(d.id(), d.primary(), d.ok(), d.message(), d.tookMs()));
        } else if (m instanceof Maintenance x) {
            adoptMaintenance(x.enabled(), x.version(), "set on " + (x.from() == null ? "a peer" : x.from()));
        }
    }

    // ------------------------------------------------------------------ reads (any thread)

    public NodeRole role() {
        return role;
    }

    public long term() {
        return role == NodeRole.PRIMARY ? roleTerm : term;
    }

    /** The highest term recorded (seen or voted in), whatever the role. */
    public long recordedTerm() {
        return term;
    }

    /** Whom this node voted for in {@link #recordedTerm()}, or null. */
    public String votedFor() {
        return votedFor;
    }

    public String primary() {
        return primary;
    }

    public String primaryHttp() {
        return primaryHttp;
    }

    public List<String> view() {
        return membership.view;
    }

    public boolean connected() {
        return membership.connected;
    }

    public boolean maintenance() {
        return maintenance;
    }

    public long maintenanceVersion() {
        return maintenanceVersion;
    }

    public String lastDecision() {
        return lastDecision;
    }

    public long leaseUntil() {
        return leaseUntil;
    }

    public long handedOverLsn() {
        return handedOverLsn;
    }

    public boolean handingOver() {
        return handingOver;
    }

    /** The role as the rest of the node sees it, taken whole. */
    public RoleState roleState() {
        return new RoleState(role, term(), primary, primaryHttp, leaseUntil, handingOver, handedOverLsn);
    }

    public Map<String, Peer> peers() {
        return Collections.unmodifiableMap(membership.peers);
    }

    public Set<String> knownHttp() {
        return Collections.unmodifiableSet(membership.knownHttp);
    }

    public LastStatus lastStatus(String address) {
        return membership.lastStatusByAddress.get(address);
    }

    /** Why this node may not acknowledge a write now. */
    public WriteRefused notWritable() {
        if (role != NodeRole.PRIMARY) {
            return new WriteRefused(WriteRefused.Reason.NOT_PRIMARY, me + " is not the primary"
                    + (primary == null ? " and no primary is known (failover in progress?)" : "; the primary is " + primary));
        }
        if (handingOver) return new WriteRefused(WriteRefused.Reason.HANDING_OVER, me + " is handing the primary role over (switchover)");
        return new WriteRefused(WriteRefused.Reason.NO_LEASE, me + " cannot reach a majority of its group to confirm it is still primary");
    }

    /** The status this node sends now. */
    public Status statusMessage(long now, Data data) {
        MemberState self = self(data);
        return new Status(me, s.witness(), self.priority(), self.role(), self.term(), self.lastTerm(), self.lsn(), httpUrl, s.address(),
                maintenance, maintenanceVersion, now);
    }

    // ------------------------------------------------------------------ shared by the parts (the group thread)

    MemberState self() {
        return self(data);
    }

    private MemberState self(Data d) {
        return new MemberState(me, s.witness(), s.priority(), role, term(), d.lastTerm(), d.lastLsn());
    }

    /** Any message of a newer term: record it; a primary of an older term steps down at once. */
    void observeHigherTerm(long t, String from) {
        raise(t);
        if (role == NodeRole.PRIMARY && t > roleTerm) {
            changeRole(NodeRole.SECONDARY, t, "term " + t + " seen from " + from + " is newer than mine (" + roleTerm + ")", 0);
        }
    }

    void setPrimary(String name, String http) {
        primary = name;
        primaryHttp = http;
    }

    void changeRole(NodeRole next, long t, String reason, long tookMillis) {
        NodeRole prev = role;
        if (prev == next) return;
        if (prev == NodeRole.PRIMARY) {
            handingOver = false;
            leaseUntil = Long.MIN_VALUE;
            if (me.equals(primary)) setPrimary(null, null);
        }
        role = next;
        log("role " + prev + " -> " + next + " (term " + t + "): " + reason);
        out.add(new GroupEffect.RoleChanged(prev, next, t, reason, tookMillis));
    }

    void adoptMaintenance(boolean enabled, long version, String how) {
        if (version <= maintenanceVersion) return;
        boolean changed = enabled != maintenance;
        maintenance = enabled;
        maintenanceVersion = version;
        out.add(new GroupEffect.PersistMaintenance(enabled, version));
        if (changed) {
            log("maintenance " + (enabled ? "on" : "off") + " (" + how + "): automatic failover " + (enabled ? "paused" : "resumed"));
            event(EventId.MAINTENANCE_CHANGED, Map.of("enabled", enabled));
        }
    }

    // --- the durable term ---

    /** Records {@code t} (seen, not voted in) if it is higher. */
    void raise(long t) {
        if (t <= term) return;
        term = t;
        votedFor = null;
        out.add(new GroupEffect.PersistTerm(t, null));
    }

    /** Records a vote for {@code candidate} in {@code t}, unless this node is past t or voted for another in it; whether it stands. */
    boolean vote(long t, String candidate) {
        if (t < term || (t == term && votedFor != null && !votedFor.equals(candidate))) return false;
        if (t == term && candidate.equals(votedFor)) return true;
        term = t;
        votedFor = candidate;
        out.add(new GroupEffect.PersistTerm(t, candidate));
        return true;
    }

    // --- output ---

    void emit(GroupEffect e) {
        out.add(e);
    }

    void broadcast(GroupMessage m) {
        out.add(new GroupEffect.Send(null, m));
    }

    void send(String to, GroupMessage m) {
        if (to.equals(me)) {
            onMessage(m); // to itself: at once, in order with the rest of this step
            return;
        }
        out.add(new GroupEffect.Send(to, m));
    }

    void event(EventId id, Map<String, Object> data) {
        out.add(new GroupEffect.Event(id, data));
    }

    void log(String line) {
        out.add(new GroupEffect.Log(line));
    }
}
