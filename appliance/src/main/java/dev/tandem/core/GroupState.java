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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One member's side of the group protocol as a state machine, in the style of etcd-raft: every input
 * (a heartbeat tick, a view change, a message, an operator's request) goes through {@link #step}, with the
 * time and this node's data passed in, and comes out as data: the {@link Effect}s to carry out, in order.
 * Nothing here reads a clock, touches the network or a file, or knows JSON: the driver
 * ({@code cluster.GroupMember}) does, so the same code runs in the real node and in the simulation tests.
 *
 * <p>Order is the contract: a {@link Effect.PersistTerm} comes before the sends that rely on it (a vote is
 * on disk before it is sent), {@link Effect.BecomingPrimary} before the {@link Effect.RoleChanged} to PRIMARY.
 *
 * <p>Called on one thread; the getters may be read from others (the fields they read are volatile or
 * concurrent), as HTTP and replication do.
 */
public final class GroupState {
    /** What the protocol needs from the configuration. Times in milliseconds. */
    public record Settings(String me, boolean witness, int priority, int voters, boolean majority, boolean preempt,
                           long heartbeatMs, long leaseMs, long failureTimeoutMs, long syncTimeoutMs, String address) {}

    /** This node's data as the store reports it when the input arrives (0, 0 on a witness). */
    public record Data(long lastTerm, long lastLsn) {
        public static final Data NONE = new Data(0, 0);
    }

    /** What goes into {@link #step}. */
    public sealed interface Input {
        /** Every heartbeat interval. */
        record Tick() implements Input {}

        /** A new view; {@code coordinator} is whether this node coordinates it (it decides elections). */
        record ViewChanged(List<String> members, boolean coordinator, String coordinatorName) implements Input {}

        /** A group message from another member. */
        record Received(GroupMessage message) implements Input {}

        /** The operator asks for a switchover ({@code target} null: the best secondary); answered by {@link Effect.SwitchoverFinished}. */
        record SwitchoverRequested(String target, String id) implements Input {}

        /** The operator turns maintenance on or off, group-wide. */
        record MaintenanceSet(boolean enabled) implements Input {}

        /** The commits in flight when {@link Effect.DrainCommits} was asked for have finished: the last LSN is final. */
        record CommitsDrained() implements Input {}

        /** The time of a vote held back by {@link Effect.Later} has come. */
        record VoteDue(String candidate, Vote vote) implements Input {}

        /** The node is stopping: a primary resigns so that the group need not wait out its lease. */
        record Closing() implements Input {}
    }

    /** What comes out of {@link #step}, to be carried out in order. */
    public sealed interface Effect {
        /** Record term (and the vote in it, or null) durably before carrying out the effects after this one. */
        record PersistTerm(long term, String votedFor) implements Effect {}

        record PersistMaintenance(boolean enabled, long version) implements Effect {}

        /** Send {@code message} to {@code to}; to everyone in the view when {@code to} is null. */
        record Send(String to, GroupMessage message) implements Effect {}

        /** Feed {@code input} back after {@code delayMs}: a vote or a candidacy held until an old primary's lease has run out. */
        record Later(long delayMs, Input input) implements Effect {}

        /** Just before this node acts as primary of {@code term}: its writes will carry that term. */
        record BecomingPrimary(long term) implements Effect {}

        record RoleChanged(NodeRole previous, NodeRole now, long term, String reason, long tookMs) implements Effect {}

        /** For the event log and the hooks: PEER_JOINED, PEER_LOST, MAINTENANCE_CHANGED. */
        record Event(EventId id, Map<String, Object> data) implements Effect {}

        /** A switchover this node asked for has ended. */
        record SwitchoverFinished(String id, String primary, boolean ok, String message, long tookMs) implements Effect {}

        /** Stop acknowledging writes has begun (handing over): wait for the commits in flight, then step {@link Input.CommitsDrained}. */
        record DrainCommits() implements Effect {}

        /** A line for the node's log (decisions, candidacies, votes, role changes). */
        record Log(String line) implements Effect {}
    }

    /** What a member last said in its status. */
    public record Peer(MemberState state, String address, String http, long receivedAt, boolean maintenance, long maintenanceVersion) {}

    /** What a member said last, by group address: a member lost since is still shown by name. */
    public record LastStatus(String name, boolean witness, String http, int priority, long lsn, long lastTerm, long at) {}

    private record Candidacy(long term, long deadline, long since, Set<String> grants) {}

    private record Handover(String target, String requestId, String replyTo, long startedAt, long deadline, long startLsn) {}

    private record PendingRequest(Switchover request, long deadline) {}

    private final Settings s;
    private final String me;

    // --- durable, mirrored here (the driver persists them when told) ---
    private volatile long term;
    private volatile String votedFor;
    private volatile boolean maintenance;
    private volatile long maintenanceVersion;

    // --- role ---
    private volatile NodeRole role;
    private volatile long roleTerm;
    private volatile String primary;
    private volatile String primaryHttp;
    private volatile long leaseUntil = Long.MIN_VALUE;
    private volatile long handedOverLsn;
    private volatile boolean handingOver;
    private volatile String lastDecision = "starting";
    private volatile String httpUrl = "";

    // --- the group as seen from here ---
    private volatile List<String> view = List.of();
    private volatile boolean connected;
    private boolean coordinator;
    private String coordinatorName;
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final Set<String> knownHttp = ConcurrentHashMap.newKeySet();
    private final Map<String, LastStatus> lastStatusByAddress = new ConcurrentHashMap<>();
    private final Map<String, Long> ackedSentAt = new LinkedHashMap<>();

    // --- elections, leases, handovers: state that exists only while it is active ---
    private Candidacy candidacy;
    private Handover handover;
    private Switchover starting; // a switchover accepted, between DrainCommits and CommitsDrained
    private final List<PendingRequest> pending = new ArrayList<>();
    private long nominationInFlightUntil = Long.MIN_VALUE;
    private long lastPrimaryAckAt = Long.MIN_VALUE;
    private String lastPrimaryAcked;
    private long primaryLostAt = Long.MIN_VALUE;
    private long viewSince;
    private long lastTick;

    // --- the step in progress ---
    private List<Effect> out;
    private long now;
    private Data data;

    /** Only scheme://host:port: the URL goes into CORS and CSP headers, where nothing else may ride along. */
    private static final java.util.regex.Pattern ORIGIN =
            java.util.regex.Pattern.compile("https?://[A-Za-z0-9.\\-]{1,253}:[0-9]{1,5}|https?://\\[[0-9A-Fa-f:.]{2,45}\\]:[0-9]{1,5}");

    /** @param term, votedFor, maintenance, maintenanceVersion what this node recorded durably before it stopped last */
    public GroupState(Settings settings, long term, String votedFor, boolean maintenance, long maintenanceVersion, long now) {
        this.s = settings;
        this.me = settings.me();
        this.term = term;
        this.votedFor = votedFor;
        this.maintenance = maintenance;
        this.maintenanceVersion = maintenanceVersion;
        this.role = settings.witness() ? NodeRole.WITNESS : NodeRole.NOT_IN_GROUP;
        this.lastTick = now;
    }

    public void setHttpUrl(String url) {
        this.httpUrl = url == null ? "" : url;
    }

    /** This node's HTTP URL as it announces it ("" until set). */
    public String httpUrl() {
        return httpUrl;
    }

    /** Feeds one input; returns what to do about it, in order. */
    public List<Effect> step(Input in, long now, Data data) {
        this.out = new ArrayList<>();
        this.now = now;
        this.data = data == null ? Data.NONE : data;
        try {
            if (in instanceof Input.Tick) {
                tick();
            } else if (in instanceof Input.ViewChanged v) {
                onView(v);
            } else if (in instanceof Input.Received r) {
                onMessage(r.message());
            } else if (in instanceof Input.SwitchoverRequested r) {
                requestSwitchover(new Switchover(me, r.target(), r.id()), now + s.failureTimeoutMs() + 2000);
            } else if (in instanceof Input.MaintenanceSet m) {
                long version = maintenanceVersion + 1;
                adoptMaintenance(m.enabled(), version, "set on " + me);
                broadcast(new Maintenance(me, m.enabled(), version));
            } else if (in instanceof Input.CommitsDrained) {
                startHandover();
            } else if (in instanceof Input.VoteDue v) {
                // meanwhile this node may have moved to a newer term (voted in it): a vote for an older term
                // would only make a primary that the newer one has to depose
                if (term != v.vote().term()) {
                    log("vote for " + v.candidate() + " in term " + v.vote().term() + " not sent: this node is in term " + term + " now");
                } else {
                    promiseLease(v.candidate());
                    send(v.candidate(), v.vote());
                }
            } else if (in instanceof Input.Closing) {
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

    public String primary() {
        return primary;
    }

    public String primaryHttp() {
        return primaryHttp;
    }

    public List<String> view() {
        return view;
    }

    public boolean connected() {
        return connected;
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
        return java.util.Collections.unmodifiableMap(peers);
    }

    public Set<String> knownHttp() {
        return java.util.Collections.unmodifiableSet(knownHttp);
    }

    public LastStatus lastStatus(String address) {
        return lastStatusByAddress.get(address);
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

    // ------------------------------------------------------------------ the protocol

    private MemberState self() {
        return self(data);
    }

    private MemberState self(Data d) {
        return new MemberState(me, s.witness(), s.priority(), role, term(), d.lastTerm(), d.lastLsn());
    }

    private void tick() {
        lastTick = now;
        broadcast(statusMessage(now, data));
        if (role == NodeRole.PRIMARY) renewLease();
        if (candidacy != null && now > candidacy.deadline()) {
            log("candidacy for term " + candidacy.term() + " lapsed: " + candidacy.grants().size() + " of "
                    + Election.votesNeeded(s.voters(), s.majority()) + " votes");
            candidacy = null;
        }
        retryPending();
        progressHandover();
        decideIfCoordinator();
    }

    private void onView(Input.ViewChanged v) {
        List<String> names = List.copyOf(v.members());
        List<String> before = view;
        view = names;
        connected = true;
        coordinator = v.coordinator();
        coordinatorName = v.coordinatorName();
        // statuses heard before this view stay valid only if members just left and this node did not stall
        // (a frozen node's own picture of the group is old when it wakes)
        boolean onlyLeft = before.containsAll(names);
        if (!onlyLeft || now - lastTick > 3 * s.heartbeatMs()) viewSince = now;
        for (String n : names) if (!before.contains(n) && !n.equals(me)) event(EventId.PEER_JOINED, Map.of("peer", n));
        for (String n : before) {
            if (!names.contains(n)) {
                peers.remove(n);
                ackedSentAt.remove(n);
                event(EventId.PEER_LOST, Map.of("peer", n));
                if (n.equals(primary)) {
                    primaryLostAt = now;
                    setPrimary(null, null);
                }
            }
        }
        log("view: " + names + " (" + names.size() + " of " + s.voters() + " voters)");
        if (s.majority() && names.size() < s.voters() / 2 + 1) {
            if (role == NodeRole.PRIMARY || role == NodeRole.SECONDARY) {
                changeRole(NodeRole.NOT_IN_GROUP, term(), "lost quorum: " + names.size() + " of " + s.voters() + " voters visible", 0);
            }
        }
        decideIfCoordinator();
    }

    private void onMessage(GroupMessage m) {
        if (m instanceof Status st) {
            onStatus(st);
        } else if (m instanceof Ack a) {
            onAck(a);
        } else if (m instanceof Nominate n) {
            onNominate(n);
        } else if (m instanceof RequestVote r) {
            onRequestVote(r);
        } else if (m instanceof Vote v) {
            onVote(v);
        } else if (m instanceof Resign r) {
            if (r.from().equals(lastPrimaryAcked)) lastPrimaryAckAt = Long.MIN_VALUE;
        } else if (m instanceof Switchover sw) {
            onSwitchover(sw);
        } else if (m instanceof SwitchoverDone d) {
            out.add(new Effect.SwitchoverFinished(d.id(), d.primary(), d.ok(), d.message(), d.tookMs()));
        } else if (m instanceof Maintenance x) {
            adoptMaintenance(x.enabled(), x.version(), "set on " + (x.from() == null ? "a peer" : x.from()));
        }
    }

    private void onStatus(Status m) {
        String from = m.name();
        MemberState st = new MemberState(from, m.witness(), m.priority(), m.role(), m.term(), m.lastTerm(), m.lsn());
        peers.put(from, new Peer(st, m.addr(), m.http(), now, m.maintenance(), m.maintenanceVersion()));
        String http = m.http();
        if (http != null && ORIGIN.matcher(http).matches() && knownHttp.size() < 64) knownHttp.add(http.toLowerCase(Locale.ROOT));
        String addr = m.addr();
        if (addr != null && (lastStatusByAddress.containsKey(addr) || lastStatusByAddress.size() < 64)) {
            lastStatusByAddress.put(addr, new LastStatus(from, st.witness(), http, st.priority(), st.lsn(), st.lastTerm(), now));
        }
        if (m.maintenanceVersion() > maintenanceVersion) adoptMaintenance(m.maintenance(), m.maintenanceVersion(), "learned from " + from);
        if (st.term() > term) observeHigherTerm(st.term(), from);
        if (st.role() == NodeRole.PRIMARY) {
            if (st.term() < term) {
                send(from, statusMessage(now, data)); // tell the stale primary about the newer term at once
            } else if (role == NodeRole.PRIMARY && !from.equals(me)) {
                if (Election.yields(self(), st)) {
                    changeRole(NodeRole.SECONDARY, st.term(), "yields to primary " + from + " (term " + st.term() + ", priority " + st.priority() + ")", 0);
                }
            } else {
                lastPrimaryAckAt = now;
                lastPrimaryAcked = from;
                send(from, new Ack(me, st.term(), m.sentAt()));
                setPrimary(from, m.http());
            }
        } else if (from.equals(primary)) {
            setPrimary(null, null); // it stepped down
        }
        followerRole();
    }

    /** Any message of a newer term: record it; a primary of an older term steps down at once. */
    private void observeHigherTerm(long t, String from) {
        raise(t);
        if (role == NodeRole.PRIMARY && t > roleTerm) {
            changeRole(NodeRole.SECONDARY, t, "term " + t + " seen from " + from + " is newer than mine (" + roleTerm + ")", 0);
        }
    }

    /** A non-primary data node: SECONDARY while in a quorate group with a primary, else NOT_IN_GROUP. */
    private void followerRole() {
        if (s.witness() || role == NodeRole.PRIMARY) return;
        boolean quorate = !s.majority() || view.size() >= s.voters() / 2 + 1;
        if (!quorate) {
            if (role != NodeRole.NOT_IN_GROUP) changeRole(NodeRole.NOT_IN_GROUP, term(), "lost quorum", 0);
        } else if (primary != null && role != NodeRole.SECONDARY) {
            changeRole(NodeRole.SECONDARY, term(), "following primary " + primary, 0);
        }
    }

    private void setPrimary(String name, String http) {
        primary = name;
        primaryHttp = http;
    }

    private void onAck(Ack m) {
        if (role != NodeRole.PRIMARY || m.term() != roleTerm) return;
        ackedSentAt.merge(m.from(), m.sentAt(), Math::max);
        renewLease();
    }

    private void renewLease() {
        long[] acks = new long[Math.max(0, s.voters() - 1)];
        java.util.Arrays.fill(acks, Long.MIN_VALUE);
        int i = 0;
        for (String p : view) {
            if (p.equals(me) || i >= acks.length) continue;
            acks[i++] = ackedSentAt.getOrDefault(p, Long.MIN_VALUE);
        }
        leaseUntil = Lease.validUntil(now, acks, Election.votesNeeded(s.voters(), s.majority()), s.leaseMs());
    }

    private void decideIfCoordinator() {
        if (!connected) {
            lastDecision = "not connected to the group yet";
            return;
        }
        if (!coordinator) {
            // the view's coordinator decides; the others say what they follow, so every node's last decision reads plainly
            String coord = String.valueOf(coordinatorName);
            lastDecision = primary != null
                    ? "no action: " + primary + " is primary of term " + term()
                            + (primary.equals(me) ? "" : "; " + me + " is " + role.name().toLowerCase(Locale.ROOT).replace('_', ' '))
                            + " (" + coord + " coordinates the group's decisions)"
                    : "no primary yet: waiting for " + coord + ", the group's coordinator, to decide";
            if (maintenance) lastDecision += "; maintenance: automatic failover paused";
            return;
        }
        List<MemberState> members = new ArrayList<>();
        members.add(self());
        for (String n : view) {
            if (n.equals(me)) continue;
            Peer p = peers.get(n);
            if (p == null || p.receivedAt() < viewSince || p.state().term() < term) {
                // it may hold newer data, or be primary: decide only on what every member says now. A status of an
                // older term is stale: it may have sat in a socket buffer while this node was frozen.
                lastDecision = "waiting for a current status of " + n;
                return;
            }
            members.add(p.state());
        }
        if (candidacy != null || handover != null) return;
        long heardSince = now - s.failureTimeoutMs();
        List<MemberState> reachable = peers.values().stream()
                .filter(p -> !view.contains(p.state().name()) && p.receivedAt() > heardSince).map(Peer::state).toList();
        Decision d = Election.decide(new GroupView(me, members, reachable, s.voters(), s.majority(), s.preempt(), maintenance));
        if (!d.toString().equals(lastDecision)) {
            log("decision: " + d);
            lastDecision = d.toString();
        }
        if (d.action() == Decision.Action.NONE || now < nominationInFlightUntil) return;
        nominationInFlightUntil = now + s.failureTimeoutMs();
        if (d.action() == Decision.Action.ELECT) {
            send(d.candidate(), new Nominate(me, d.term(), d.reason()));
        } else if (primary != null) {
            send(primary, new Switchover(me, d.candidate(), "preempt-" + d.term()));
        }
    }

    private void onNominate(Nominate m) {
        long t = m.term();
        if (s.witness() || role == NodeRole.PRIMARY || (candidacy != null && t == candidacy.term()) || handover != null) return; // not while handing over
        // our own vote keeps the lease promise too: no candidacy until the lease after this node's last acknowledgement
        // of another primary has run out (unless that primary itself nominated this node: it stopped acknowledging first)
        long wait = lastPrimaryAckAt == Long.MIN_VALUE || me.equals(lastPrimaryAcked) || m.from().equals(lastPrimaryAcked)
                ? 0 : lastPrimaryAckAt + s.leaseMs() - now;
        if (wait > 0 && t > term) {
            log("candidacy for term " + t + " in " + wait + " ms, when the lease of " + lastPrimaryAcked + " has run out");
            out.add(new Effect.Later(wait, new Input.Received(m)));
            return;
        }
        if (!vote(t, me)) return; // our own vote, recorded before asking for others' (not if we voted for another in t)
        Set<String> grants = new HashSet<>();
        grants.add(me);
        candidacy = new Candidacy(t, now + s.failureTimeoutMs(), primaryLostAt != Long.MIN_VALUE ? primaryLostAt : now, grants);
        lastDecision = "candidate for term " + t + ": " + (m.reason() != null ? m.reason() : "nominated by " + m.from());
        log("candidate for term " + t + " (nominated by " + m.from() + "), asking for votes");
        MemberState self = self();
        broadcast(new RequestVote(me, t, self.priority(), self.lastTerm(), self.lsn(), now));
        maybeWin();
    }

    private void onRequestVote(RequestVote m) {
        long t = m.term();
        String cand = m.candidate();
        MemberState candState = new MemberState(cand, false, m.priority(), NodeRole.NOT_IN_GROUP, t, m.lastTerm(), m.lsn());
        long myTerm = term;
        Election.Vote v = Election.vote(myTerm, votedFor, self(), t, candState);
        // a granted vote is recorded (with its term: one fsync) before it is sent; a refusal still records the newer term
        if (v.granted() && !vote(t, cand)) v = new Election.Vote(false, "already voted in term " + t);
        if (t > myTerm) observeHigherTerm(t, cand);
        Vote reply = new Vote(me, t, v.granted(), v.reason(), m.sentAt());
        // lease: no vote for another primary until our last acknowledgement of the old one has run out
        long wait = cand.equals(lastPrimaryAcked) || lastPrimaryAckAt == Long.MIN_VALUE ? 0 : lastPrimaryAckAt + s.leaseMs() - now;
        if (v.granted() && wait > 0) {
            log("vote for " + cand + " in term " + t + " granted; sent in " + wait + " ms, when the lease of " + lastPrimaryAcked + " has run out");
            promiseLease(cand);
            out.add(new Effect.Later(wait, new Input.VoteDue(cand, reply)));
        } else {
            if (v.granted()) promiseLease(cand);
            send(cand, reply);
        }
        if (!v.granted()) log("vote for " + cand + " in term " + t + " refused: " + v.reason());
    }

    /**
     * A granted vote is an acknowledgement too: the candidate's lease counts from its request, so this node
     * votes for no other candidate until a lease after the vote has run out (as after acking a primary's status).
     */
    private void promiseLease(String cand) {
        lastPrimaryAcked = cand;
        lastPrimaryAckAt = now;
    }

    private void onVote(Vote m) {
        if (candidacy == null || m.term() != candidacy.term()) return;
        if (m.granted()) {
            candidacy.grants().add(m.from());
            ackedSentAt.merge(m.from(), m.sentAt(), Math::max);
            maybeWin();
        }
    }

    private void maybeWin() {
        int needed = Election.votesNeeded(s.voters(), s.majority());
        if (candidacy == null || candidacy.grants().size() < needed) return;
        Candidacy c = candidacy;
        long t = c.term();
        candidacy = null;
        roleTerm = t;
        out.add(new Effect.BecomingPrimary(t));
        ackedSentAt.keySet().retainAll(c.grants());
        changeRole(NodeRole.PRIMARY, t, "elected in term " + t + " with the votes of " + new TreeSet<>(c.grants()) + " (" + needed + " needed)",
                now - c.since());
        renewLease();
        setPrimary(me, httpUrl);
        primaryLostAt = Long.MIN_VALUE;
        handedOverLsn = 0; // its own writes from now on are acknowledged under its own lease only
        if (handover != null) { // handed over, but the group elected this node again: that switchover is over
            reply(handover.replyTo(), handover.requestId(), false, handover.target() + " did not become primary; the group elected "
                    + me + " again (term " + t + ")", now - handover.startedAt());
            handover = null;
        }
        broadcast(statusMessage(now, data));
    }

    private void changeRole(NodeRole next, long t, String reason, long tookMillis) {
        NodeRole prev = role;
        if (prev == next) return;
        if (prev == NodeRole.PRIMARY) {
            handingOver = false;
            leaseUntil = Long.MIN_VALUE;
            if (me.equals(primary)) setPrimary(null, null);
        }
        role = next;
        log("role " + prev + " -> " + next + " (term " + t + "): " + reason);
        out.add(new Effect.RoleChanged(prev, next, t, reason, tookMillis));
    }

    // --- switchover ---

    /** On the primary: start it; elsewhere: relay it to the primary, waiting up to the deadline to learn who that is. */
    private void requestSwitchover(Switchover req, long deadline) {
        if (role == NodeRole.PRIMARY) {
            onSwitchover(req);
        } else if (primary != null) {
            send(primary, req);
        } else if (now < deadline) {
            pending.add(new PendingRequest(req, deadline)); // a node that knows no primary yet waits for one, as writes do (SPEC 5)
        } else {
            out.add(new Effect.SwitchoverFinished(req.id(), me, false,
                    "no primary in the group to switch over from; wait for one or check `tandem status`", 0));
        }
    }

    private void retryPending() {
        if (pending.isEmpty()) return;
        List<PendingRequest> again = new ArrayList<>(pending);
        pending.clear();
        for (PendingRequest p : again) requestSwitchover(p.request(), p.deadline());
    }

    private void onSwitchover(Switchover m) {
        String id = m.id();
        String from = m.from();
        if (role != NodeRole.PRIMARY) {
            if (primary != null && !primary.equals(me)) send(primary, m);
            else reply(from, id, false, "no primary to switch over from", 0);
            return;
        }
        if (handover != null || starting != null) {
            String to = handover != null ? handover.target() : starting.to();
            reply(from, id, false, "a switchover to " + to + " is already in progress", 0);
            return;
        }
        String target = m.to();
        if (target == null) {
            target = Election.candidate(peers.values().stream().map(Peer::state).filter(x -> view.contains(x.name())).toList())
                    .map(MemberState::name).orElse(null);
        }
        Peer p = target == null ? null : peers.get(target);
        // a target in the view but not heard from yet is waited for, like one that is catching up
        if (target == null || !view.contains(target) || (p != null && p.state().witness())) {
            reply(from, id, false, target == null ? "no secondary to switch over to" : target + " is not a data node of the group in this node's view", 0);
            return;
        }
        if (target.equals(me)) {
            reply(from, id, true, me + " is already the primary", 0);
            return;
        }
        handingOver = true; // stop acknowledging writes; commits in flight finish
        starting = new Switchover(from, target, id);
        out.add(new Effect.DrainCommits()); // then the last LSN is final: the target must reach it, not one before
    }

    private void startHandover() {
        Switchover st = starting;
        starting = null;
        if (st == null) return;
        if (role != NodeRole.PRIMARY) { // lost the role while the commits drained
            handingOver = false;
            reply(st.from(), st.id(), false, me + " lost the primary role before the switchover began", 0);
            return;
        }
        handover = new Handover(st.to(), st.id(), st.from(), now, now + s.syncTimeoutMs(), data.lastLsn());
        log("switchover to " + st.to() + " started: writes paused, waiting for it to reach lsn " + handover.startLsn());
        progressHandover();
    }

    private void progressHandover() {
        Handover h = handover;
        if (h == null) return;
        if (role != NodeRole.PRIMARY) {
            // we handed over (or lost the role); done when the target shows up as primary
            if (h.target().equals(primary)) {
                reply(h.replyTo(), h.requestId(), true, h.target() + " is primary", now - h.startedAt());
                handover = null;
            } else if (now > h.deadline() + s.failureTimeoutMs()) {
                reply(h.replyTo(), h.requestId(), false, h.target() + " did not become primary in time; the group will elect a primary",
                        now - h.startedAt());
                handover = null;
            }
            return;
        }
        Peer p = peers.get(h.target());
        if (p != null && p.state().witness()) {
            // a target that was in the view but not heard from when the switchover began turned out to be a witness
            // (it holds no data: with an empty store its LSN would pass the check below)
            handingOver = false;
            reply(h.replyTo(), h.requestId(), false, h.target() + " is not a data node of the group; " + me + " stays primary", now - h.startedAt());
            handover = null;
            return;
        }
        long myLsn = data.lastLsn();
        // the target has this node's history: as long, and its newest change of the same term (a follower's log, not a
        // longer divergent one of its own)
        if (p != null && p.state().lsn() >= myLsn && (s.witness() || p.state().lastTerm() == data.lastTerm())) {
            handedOverLsn = myLsn; // commits stopped at the barrier: every write up to here is in the target's history
            long t = Math.max(term, roleTerm) + 1;
            // this node's own vote in t goes to the target, recorded first: a coordinator that sees no primary for a
            // moment and nominates this node (same data, earlier name) cannot make it a rival candidate in t
            vote(t, h.target());
            send(h.target(), new Nominate(me, t, "switchover from " + me));
            changeRole(NodeRole.SECONDARY, roleTerm, "switchover to " + h.target() + " (term " + t + ")", 0);
            broadcast(new Resign(me, roleTerm));
            broadcast(statusMessage(now, data));
        } else if (now > h.deadline()) {
            handingOver = false;
            reply(h.replyTo(), h.requestId(), false, h.target() + " did not catch up (lsn " + (p == null ? "?" : p.state().lsn()) + " of " + myLsn
                    + ") within replication.sync_timeout; " + me + " stays primary", now - h.startedAt());
            handover = null;
        }
    }

    private void reply(String to, String id, boolean ok, String message, long tookMs) {
        SwitchoverDone done = new SwitchoverDone(id, ok, message, ok ? (handover != null ? handover.target() : me) : primary, tookMs);
        if (to == null || to.equals(me)) onMessage(done);
        else send(to, done);
    }

    private void adoptMaintenance(boolean enabled, long version, String how) {
        if (version <= maintenanceVersion) return;
        boolean changed = enabled != maintenance;
        maintenance = enabled;
        maintenanceVersion = version;
        out.add(new Effect.PersistMaintenance(enabled, version));
        if (changed) {
            log("maintenance " + (enabled ? "on" : "off") + " (" + how + "): automatic failover " + (enabled ? "paused" : "resumed"));
            event(EventId.MAINTENANCE_CHANGED, Map.of("enabled", enabled));
        }
    }

    // --- the durable term ---

    /** Records {@code t} (seen, not voted in) if it is higher. */
    private void raise(long t) {
        if (t <= term) return;
        term = t;
        votedFor = null;
        out.add(new Effect.PersistTerm(t, null));
    }

    /** Records a vote for {@code candidate} in {@code t}, unless this node is past t or voted for another in it; whether it stands. */
    private boolean vote(long t, String candidate) {
        if (t < term || (t == term && votedFor != null && !votedFor.equals(candidate))) return false;
        if (t == term && candidate.equals(votedFor)) return true;
        term = t;
        votedFor = candidate;
        out.add(new Effect.PersistTerm(t, candidate));
        return true;
    }

    /** Whom this node voted for in {@link #recordedTerm()}, or null. */
    public String votedFor() {
        return votedFor;
    }

    // --- output ---

    private void broadcast(GroupMessage m) {
        out.add(new Effect.Send(null, m));
    }

    private void send(String to, GroupMessage m) {
        if (to.equals(me)) {
            onMessage(m); // to itself: at once, in order with the rest of this step
            return;
        }
        out.add(new Effect.Send(to, m));
    }

    private void event(EventId id, Map<String, Object> data) {
        out.add(new Effect.Event(id, data));
    }

    private void log(String line) {
        out.add(new Effect.Log(line));
    }

}
