package dev.tandem.cluster;

import dev.tandem.config.TandemConfig;
import dev.tandem.core.Decision;
import dev.tandem.core.Election;
import dev.tandem.core.GroupMessage;
import dev.tandem.core.GroupView;
import dev.tandem.core.Lease;
import dev.tandem.core.MemberState;
import dev.tandem.core.Role;
import dev.tandem.core.TimingRules;
import dev.tandem.core.WriteRefused;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership of its availability group. JGroups views, group messages and heartbeat
 * ticks all run on one thread ("group"), so the state below needs no locks; HTTP reads the volatile
 * fields. Decisions come from {@link Election} (pure); this class only gathers its inputs and carries
 * its outputs: nominate, vote, become primary, step down.
 *
 * <p>Messages (JSON): {@code status} (every heartbeat; a primary's status is its lease heartbeat),
 * {@code ack}, {@code nominate}, {@code request_vote}, {@code vote}, {@code resign}, {@code switchover},
 * {@code switchover_done}, {@code maintenance}.
 */
public final class GroupMember implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupMember.class);

    /** This node's data, for elections (data nodes only). */
    public interface DataState {
        long lastTerm();

        long lastLsn();

        /**
         * Returns once no commit that passed the write gate before it closed is still in progress, so
         * {@link #lastLsn()} is final while the gate stays closed (the store checks the gate under its commit lock).
         */
        default void awaitCommitsInFlight() {}
    }

    /** Told on the group thread; must not block. */
    public interface Listener {
        void roleChanged(Role previous, Role now, long term, String reason, long tookMillis);

        /** Just before this node starts acting as primary of {@code term} (writes will carry it). */
        default void becomingPrimary(long term) {}

        default void event(String type, JsonObject data) {}
    }

    private record Peer(MemberState state, String address, String http, long receivedAt, boolean maintenance, long maintenanceVersion) {}

    private final TandemConfig config;
    private final String me;
    private final boolean witness;
    private final TermFile terms;
    private final DataState data;
    private final JChannel channel;
    private final ScheduledExecutorService loop;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final MaintenanceFile maintenanceFile;
    private final int voters;
    private final boolean majority;
    private final long hb, lease, failureTimeout;

    // --- state: written on the group thread only ---
    private volatile Role role;
    private volatile long roleTerm;
    private volatile String primary;
    private volatile String primaryHttp;
    private volatile long leaseUntil = Long.MIN_VALUE;
    private volatile long handedOverLsn;
    private volatile boolean handingOver;
    private volatile String lastDecision = "starting";
    private volatile String httpUrl = "";
    private volatile List<String> view = List.of();
    private final Map<String, Peer> peers = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Every HTTP URL a member of the group has announced since this node started (authenticated group
     * traffic only; kept after the member is lost, so a console served by a node that died may go on
     * through this one). Bounded.
     */
    private final java.util.Set<String> knownHttp = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final java.util.regex.Pattern ORIGIN = java.util.regex.Pattern.compile("https?://[A-Za-z0-9.\\-]{1,253}:[0-9]{1,5}|https?://\\[[0-9A-Fa-f:.]{2,45}\\]:[0-9]{1,5}");
    /** The last status each member (by group address) sent: a member lost since is still shown by name, kind and URL. */
    private final Map<String, JsonObject> lastStatusByAddress = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Long> ackedSentAt = new LinkedHashMap<>();
    private long candidateTerm = -1, candidateDeadline, candidateSince;
    private final Set<String> grants = new HashSet<>();
    private long nominationInFlightUntil = Long.MIN_VALUE;
    private long lastPrimaryAckAt = Long.MIN_VALUE;
    private String lastPrimaryAcked;
    private long primaryLostAt = Long.MIN_VALUE;
    /** When the current view was installed: statuses older than that may describe a past (e.g. this node was frozen). */
    private long viewSince;
    private long lastTick = now();
    private Switchover switchover;
    private final Map<String, CompletableFuture<JsonObject>> pendingSwitchovers = new LinkedHashMap<>();
    private final List<Waiter> writableWaiters = new ArrayList<>();

    private record Waiter(CompletableFuture<Void> future, long deadline, java.util.function.BooleanSupplier ready,
                          java.util.function.Supplier<WriteRefused> refusal) {}

    private record Switchover(String target, String requestId, String replyTo, long startedAt, long deadline, long startLsn) {}

    public GroupMember(TandemConfig config, TermFile terms, DataState data, JChannel channel) {
        this.config = config;
        this.me = config.node().name();
        this.witness = config.isWitness();
        this.terms = terms;
        this.data = data;
        this.channel = channel;
        this.role = witness ? Role.WITNESS : Role.NOT_IN_GROUP;
        this.voters = config.group().members().size();
        this.majority = config.group().quorum() == TandemConfig.Quorum.MAJORITY;
        this.hb = config.group().heartbeatInterval().toMillis();
        this.lease = TimingRules.lease(config.group().heartbeatInterval()).toMillis();
        this.failureTimeout = config.group().failureTimeout().toMillis();
        this.maintenanceFile = new MaintenanceFile(config.node().dataDir());
        this.loop = dev.tandem.util.Threads.scheduled("group-" + me);
    }

    public void addListener(Listener l) {
        listeners.add(l);
    }

    private final Map<String, java.util.function.BiConsumer<String, JsonObject>> handlers = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile java.util.function.Supplier<JsonObject> replicationInfo = () -> new JsonObject().put("mode", "none");

    /** Messages whose type starts with {@code prefix} go to {@code handler(from, message)}, called on the group thread. */
    public void onMessage(String prefix, java.util.function.BiConsumer<String, JsonObject> handler) {
        handlers.put(prefix, handler);
    }

    public void setReplicationInfo(java.util.function.Supplier<JsonObject> info) {
        this.replicationInfo = info;
    }

    /** Sends {@code m} to the member named {@code to} (reliable, in order, encrypted; dropped if it is not in the view). */
    public void sendTo(String to, JsonObject m) {
        sendJson(to, m);
    }

    public void setHttpUrl(String url) {
        this.httpUrl = url;
    }

    /** Joins the group; returns once connected (the election follows on the group thread). */
    public GroupMember start() throws Exception {
        channel.setReceiver(new Receiver() {
            @Override
            public void receive(Message msg) {
                JsonObject m;
                try {
                    m = new JsonObject(new String(msg.getArray(), msg.getOffset(), msg.getLength(), StandardCharsets.UTF_8));
                } catch (RuntimeException e) {
                    if (logLimit.allow("malformed:" + msg.getSrc())) {
                        log.warn("group: dropped a malformed message from {} ({} bytes): {}; more from it are dropped quietly for a minute",
                                msg.getSrc(), msg.getLength(), e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage()));
                    }
                    return;
                }
                loop.execute(() -> guarded(() -> onMessage(m, name(msg.getSrc()))));
            }

            @Override
            public void viewAccepted(View v) {
                List<String> names = v.getMembers().stream().map(GroupMember::name).toList();
                loop.execute(() -> guarded(() -> onView(names)));
            }
        });
        channel.connect(config.group().name());
        loop.scheduleAtFixedRate(() -> guarded(this::tick), 0, hb, TimeUnit.MILLISECONDS);
        return this;
    }

    static String name(Address a) {
        String n = NameCache.get(a);
        return n != null ? n : String.valueOf(a);
    }

    private final OncePerMinute logLimit = new OncePerMinute();

    private void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // a message with fields of the wrong type lands here too: reported, not allowed to flood the log
            long held = logLimit.admit("failure:" + e.getClass().getName());
            if (held >= 0) {
                log.error("group: unexpected failure (the node keeps going){}", held > 0 ? " [" + held + " similar lines held back]" : "", e);
            }
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) : line;
    }

    static long now() {
        return System.nanoTime() / 1_000_000;
    }

    // ------------------------------------------------------------------ reads (any thread)

    public Role role() {
        return role;
    }

    /** Fault injection when the channel was built with it (tests), else null. */
    public FaultInjection faults() {
        return FaultInjection.of(channel);
    }

    public JChannel channel() {
        return channel;
    }

    public List<String> view() {
        return view;
    }

    /** Members of the current view, other than this node, that are (or may be: not heard from yet) data nodes. */
    public List<String> dataPeersInView() {
        return view.stream().filter(n -> !n.equals(me)).filter(n -> {
            Peer p = peers.get(n);
            return p == null || !p.state().witness();
        }).toList();
    }

    public long term() {
        return role == Role.PRIMARY ? roleTerm : terms.get();
    }

    public String primary() {
        return primary;
    }

    public String primaryHttp() {
        return primaryHttp;
    }

    /** False once {@link #close} began: the group thread takes no more work. */
    public boolean running() {
        return !loop.isShutdown();
    }

    /** This node's name in the group. */
    public String name() {
        return me;
    }

    /** What replication reports now (mode, degraded, lag_ms, ...); {"mode": "none"} on a witness. */
    public JsonObject replicationInfo() {
        return replicationInfo.get();
    }

    /** This node's HTTP URL and every one the group's members announced (see {@link #isGroupOrigin}). */
    public java.util.List<String> groupOrigins() {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(knownHttp);
        if (!httpUrl.isEmpty()) all.add(httpUrl.toLowerCase(java.util.Locale.ROOT));
        return java.util.List.copyOf(all);
    }

    /** True when {@code origin} (scheme://host:port) is this node's own HTTP URL or one a member of the group announced. */
    public boolean isGroupOrigin(String origin) {
        if (origin == null) return false;
        String o = origin.toLowerCase(java.util.Locale.ROOT);
        return o.equals(httpUrl.toLowerCase(java.util.Locale.ROOT)) || knownHttp.contains(o);
    }

    public boolean maintenance() {
        return maintenanceFile.enabled();
    }

    public String lastDecision() {
        return lastDecision;
    }

    /** Primary of the newest term, holding its lease, not handing over: it may acknowledge writes now. */
    public boolean mayAcknowledge() {
        return role == Role.PRIMARY && !handingOver && now() < leaseUntil;
    }

    /** Primary and not handing over: it may commit writes (acknowledged only under {@link #mayAcknowledge}). */
    public boolean mayWrite() {
        return role == Role.PRIMARY && !handingOver;
    }

    /**
     * Completes when the write at {@code lsn} may be acknowledged: this node may acknowledge writes, or it handed
     * the primary role over in a switchover to a node that had this node's history up to at least {@code lsn}
     * (so the write is in the new primary's history; without this it would wait out the timeout and be refused).
     */
    public CompletableFuture<Void> awaitAcknowledgeable(long lsn, long timeoutMs) {
        return await(() -> mayAcknowledge() || lsn <= handedOverLsn, this::notWritable, timeoutMs);
    }

    /** The last LSN of this node's history that its switchover target confirmed having when this node stepped down (0: none). */
    public long handedOverLsn() {
        return handedOverLsn;
    }

    /** Completes once a primary that takes writes is known (this node or another), e.g. after a failover. */
    public CompletableFuture<Void> awaitPrimary(long timeoutMs) {
        return await(() -> role == Role.PRIMARY ? !handingOver : primary != null && primaryHttp != null,
                () -> new WriteRefused(WriteRefused.Reason.NOT_PRIMARY, "no primary elected yet (failover in progress, or no quorum)"), timeoutMs);
    }

    private CompletableFuture<Void> await(java.util.function.BooleanSupplier ready, java.util.function.Supplier<WriteRefused> why, long timeoutMs) {
        if (ready.getAsBoolean()) return CompletableFuture.completedFuture(null);
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.execute(() -> {
            writableWaiters.add(new Waiter(f, now() + timeoutMs, ready, why));
            releaseWaiters();
        });
        return f;
    }

    public JsonObject nodeJson() {
        JsonObject o = new JsonObject().put("name", me).put("kind", witness ? "witness" : "data").put("role", role.name())
                .put("term", term()).put("priority", config.node().priority()).put("group", config.group().name())
                .put("primary", primary).put("address", config.group().bind().toString()).put("http", httpUrl)
                .put("maintenance", maintenance()).put("last_decision", lastDecision)
                .put("lease_ms", role == Role.PRIMARY ? Math.max(0, leaseUntil - now()) : 0);
        if (data != null) {
            long lsn = data.lastLsn();
            o.put("lsn", lsn).put("last_term", data.lastTerm()).put("lag", Math.max(0, primaryLsn(lsn) - lsn));
        }
        return o;
    }

    /** The primary's last LSN as far as this node knows: its own when primary, else the primary's last status. */
    private long primaryLsn(long myLsn) {
        String p = primary;
        return role == Role.PRIMARY ? myLsn : peers.values().stream()
                .filter(x -> x.state().name().equals(p)).mapToLong(x -> x.state().lsn()).findFirst().orElse(myLsn);
    }

    /** The group as this node sees it (SPEC GET /api/v1/group). */
    public CompletableFuture<JsonObject> groupJson() {
        return CompletableFuture.supplyAsync(() -> {
            long now = now();
            long myLsn = data == null ? 0 : data.lastLsn();
            long primaryLsn = primaryLsn(myLsn);
            JsonArray nodes = new JsonArray();
            JsonObject self = nodeJson().put("state", "up").put("heartbeat_age_ms", 0)
                    .put("lag", witness ? 0 : Math.max(0, primaryLsn - myLsn));
            nodes.add(self);
            for (var e : peers.entrySet()) {
                Peer p = e.getValue();
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
                JsonObject last = lastStatusByAddress.get(a.toString());
                JsonObject n = new JsonObject().put("address", a.toString()).put("state", "unreachable");
                if (last != null) {
                    // lost since it last spoke: named, with what it last said (its role is unknown now)
                    n.put("name", last.getString("name")).put("kind", last.getString("kind")).put("http", last.getString("http"))
                            .put("priority", last.getInteger("priority")).put("lsn", last.getLong("lsn")).put("last_term", last.getLong("last_term"))
                            .put("role", "UNKNOWN").put("heartbeat_age_ms", now - last.getLong("at"));
                }
                nodes.add(n);
            }
            return new JsonObject().put("name", config.group().name()).put("term", term()).put("primary", primary)
                    .put("quorum", majority ? "majority" : "none").put("voters", voters).put("visible", view.size())
                    .put("maintenance", maintenance()).put("last_decision", lastDecision)
                    .put("replication", replicationInfo.get())
                    .put("nodes", nodes);
        }, loop);
    }

    // ------------------------------------------------------------------ operator actions

    /** Planned switchover (to {@code target}, or the best secondary when null). Completes when done. */
    public CompletableFuture<JsonObject> switchover(String target) {
        CompletableFuture<JsonObject> f = new CompletableFuture<>();
        String id = java.util.UUID.randomUUID().toString();
        loop.execute(() -> {
            pendingSwitchovers.put(id, f);
            GroupMessage.Switchover req = new GroupMessage.Switchover(me, target, id);
            // a node that knows no primary yet (it just joined, or a failover is on) waits for one as writes do (SPEC 5)
            requestSwitchover(req, now() + failureTimeout + 2000);
        });
        return f.orTimeout(config.replication().syncTimeout().toMillis() + failureTimeout + 5000, TimeUnit.MILLISECONDS);
    }

    /** On the primary: start it; elsewhere: relay it to the primary, waiting up to failure_timeout to learn who that is. */
    private void requestSwitchover(GroupMessage.Switchover req, long deadline) {
        if (role == Role.PRIMARY) {
            onSwitchover(req);
        } else if (primary != null) {
            send(primary, req);
        } else if (now() < deadline) {
            loop.schedule(() -> guarded(() -> requestSwitchover(req, deadline)), hb, TimeUnit.MILLISECONDS);
        } else {
            finishSwitchover(req.id(), me, false, "no primary in the group to switch over from; wait for one or check `tandem status`", 0);
        }
    }

    /** Pauses (or resumes) automatic failover group-wide. */
    public CompletableFuture<Boolean> setMaintenance(boolean enabled) {
        return CompletableFuture.supplyAsync(() -> {
            long version = maintenanceFile.version() + 1;
            adoptMaintenance(enabled, version, "set on " + me);
            broadcast(new GroupMessage.Maintenance(me, enabled, version));
            return enabled;
        }, loop);
    }

    // ------------------------------------------------------------------ the group thread

    private MemberState self() {
        return new MemberState(me, witness, config.node().priority(), role, term(),
                data == null ? 0 : data.lastTerm(), data == null ? 0 : data.lastLsn());
    }

    private void tick() {
        long now = now();
        lastTick = now;
        broadcast(statusMessage(now));
        if (role == Role.PRIMARY) renewLease(now);
        if (candidateTerm > 0 && now > candidateDeadline) {
            log.info("candidacy for term {} lapsed: {} of {} votes", candidateTerm, grants.size(), Election.votesNeeded(voters, majority));
            candidateTerm = -1;
        }
        progressSwitchover(now);
        releaseWaiters();
        decideIfCoordinator();
    }

    private GroupMessage.Status statusMessage(long now) {
        MemberState s = self();
        return new GroupMessage.Status(me, witness, s.priority(), s.role(), s.term(), s.lastTerm(), s.lsn(), httpUrl,
                config.group().bind().toString(), maintenanceFile.enabled(), maintenanceFile.version(), now);
    }

    private void onView(List<String> names) {
        List<String> before = view;
        view = names;
        // statuses heard before this view stay valid only if members just left and this node did not stall
        // (a frozen node's own picture of the group is old when it wakes)
        boolean onlyLeft = before.containsAll(names);
        if (!onlyLeft || now() - lastTick > 3 * hb) viewSince = now();
        for (String n : names) if (!before.contains(n) && !n.equals(me)) emit("PEER_JOINED", new JsonObject().put("peer", n));
        for (String n : before) {
            if (!names.contains(n)) {
                peers.remove(n);
                ackedSentAt.remove(n);
                emit("PEER_LOST", new JsonObject().put("peer", n));
                if (n.equals(primary)) {
                    primaryLostAt = now();
                    setPrimary(null, null);
                }
            }
        }
        log.info("view: {} ({} of {} voters)", names, names.size(), voters);
        if (majority && names.size() < voters / 2 + 1) {
            if (role == Role.PRIMARY || role == Role.SECONDARY) {
                changeRole(Role.NOT_IN_GROUP, term(), "lost quorum: " + names.size() + " of " + voters + " voters visible", 0);
            }
        }
        decideIfCoordinator();
    }

    /** A message off the wire (from {@code sender}): replication's go to their handler, the group's are decoded and checked first. */
    private void onMessage(JsonObject m, String sender) {
        String type = m.getValue("type") instanceof String t ? t : "";
        for (var h : handlers.entrySet()) {
            if (type.startsWith(h.getKey())) {
                h.getValue().accept(m.getString("from", ""), m);
                return;
            }
        }
        GroupMessage gm;
        try {
            gm = GroupCodec.decode(m);
        } catch (GroupCodec.BadMessage e) {
            long held = logLimit.admit("bad:" + sender);
            if (held >= 0) {
                log.warn("group: dropped a message from {}: {}{}", sender, e.getMessage(), held > 0 ? " [" + held + " similar lines held back]" : "");
            }
            return;
        }
        onMessage(gm);
    }

    private void onMessage(GroupMessage m) {
        if (m instanceof GroupMessage.Status s) {
            onStatus(s);
        } else if (m instanceof GroupMessage.Ack a) {
            onAck(a);
        } else if (m instanceof GroupMessage.Nominate n) {
            onNominate(n);
        } else if (m instanceof GroupMessage.RequestVote r) {
            onRequestVote(r);
        } else if (m instanceof GroupMessage.Vote v) {
            onVote(v);
        } else if (m instanceof GroupMessage.Resign r) {
            if (r.from().equals(lastPrimaryAcked)) lastPrimaryAckAt = Long.MIN_VALUE;
        } else if (m instanceof GroupMessage.Switchover s) {
            onSwitchover(s);
        } else if (m instanceof GroupMessage.SwitchoverDone d) {
            finishSwitchover(d.id(), d.primary(), d.ok(), d.message(), d.tookMs());
        } else if (m instanceof GroupMessage.Maintenance x) {
            adoptMaintenance(x.enabled(), x.version(), "set on " + (x.from() == null ? "a peer" : x.from()));
        }
    }

    private void onStatus(GroupMessage.Status m) {
        String from = m.name();
        MemberState s = new MemberState(from, m.witness(), m.priority(), m.role(), m.term(), m.lastTerm(), m.lsn());
        peers.put(from, new Peer(s, m.addr(), m.http(), now(), m.maintenance(), m.maintenanceVersion()));
        String http = m.http();
        // only scheme://host:port: the URL goes into CORS and CSP headers, where nothing else may ride along
        if (http != null && ORIGIN.matcher(http).matches() && knownHttp.size() < 64) knownHttp.add(http.toLowerCase(java.util.Locale.ROOT));
        String addr = m.addr();
        if (addr != null && (lastStatusByAddress.containsKey(addr) || lastStatusByAddress.size() < 64)) {
            lastStatusByAddress.put(addr, new JsonObject().put("name", from).put("kind", s.witness() ? "witness" : "data").put("http", http)
                    .put("priority", s.priority()).put("lsn", s.lsn()).put("last_term", s.lastTerm()).put("at", now()));
        }
        if (m.maintenanceVersion() > maintenanceFile.version()) adoptMaintenance(m.maintenance(), m.maintenanceVersion(), "learned from " + from);
        if (s.term() > terms.get()) observeHigherTerm(s.term(), from);
        if (s.role() == Role.PRIMARY) {
            if (s.term() < terms.get()) {
                send(from, statusMessage(now())); // tell the stale primary about the newer term at once
            } else if (role == Role.PRIMARY && !from.equals(me)) {
                if (Election.yields(self(), s)) {
                    changeRole(Role.SECONDARY, s.term(), "yields to primary " + from + " (term " + s.term() + ", priority " + s.priority() + ")", 0);
                }
            } else {
                lastPrimaryAckAt = now();
                lastPrimaryAcked = from;
                send(from, new GroupMessage.Ack(me, s.term(), m.sentAt()));
                setPrimary(from, m.http());
            }
        } else if (from.equals(primary)) {
            setPrimary(null, null); // it stepped down
        }
        followerRole();
    }

    /** Any message of a newer term: record it; a primary of an older term steps down at once. */
    private void observeHigherTerm(long t, String from) {
        terms.raise(t);
        if (role == Role.PRIMARY && t > roleTerm) {
            changeRole(Role.SECONDARY, t, "term " + t + " seen from " + from + " is newer than mine (" + roleTerm + ")", 0);
        }
    }

    /** A non-primary data node: SECONDARY while in a quorate group with a primary, else NOT_IN_GROUP. */
    private void followerRole() {
        if (witness || role == Role.PRIMARY) return;
        boolean quorate = !majority || view.size() >= voters / 2 + 1;
        if (!quorate) {
            if (role != Role.NOT_IN_GROUP) changeRole(Role.NOT_IN_GROUP, term(), "lost quorum", 0);
        } else if (primary != null && role != Role.SECONDARY) {
            changeRole(Role.SECONDARY, term(), "following primary " + primary, 0);
        }
    }

    private void setPrimary(String name, String http) {
        primary = name;
        primaryHttp = http;
        if (name != null) releaseWaiters();
    }

    private void onAck(GroupMessage.Ack m) {
        if (role != Role.PRIMARY || m.term() != roleTerm) return;
        ackedSentAt.merge(m.from(), m.sentAt(), Math::max);
        renewLease(now());
    }

    private void renewLease(long now) {
        long[] acks = new long[Math.max(0, voters - 1)];
        java.util.Arrays.fill(acks, Long.MIN_VALUE);
        int i = 0;
        for (String p : view) {
            if (p.equals(me) || i >= acks.length) continue;
            acks[i++] = ackedSentAt.getOrDefault(p, Long.MIN_VALUE);
        }
        leaseUntil = Lease.validUntil(now, acks, Election.votesNeeded(voters, majority), lease);
        releaseWaiters();
    }

    private void releaseWaiters() {
        if (writableWaiters.isEmpty()) return;
        long now = now();
        writableWaiters.removeIf(w -> {
            if (w.ready().getAsBoolean()) return w.future().complete(null) || true;
            if (now > w.deadline()) {
                return w.future().completeExceptionally(w.refusal().get()) || true;
            }
            return false;
        });
    }

    /** Why this node may not acknowledge a write now. */
    public WriteRefused notWritable() {
        if (role != Role.PRIMARY) {
            return new WriteRefused(WriteRefused.Reason.NOT_PRIMARY, me + " is not the primary"
                    + (primary == null ? " and no primary is known (failover in progress?)" : "; the primary is " + primary));
        }
        if (handingOver) return new WriteRefused(WriteRefused.Reason.HANDING_OVER, me + " is handing the primary role over (switchover)");
        return new WriteRefused(WriteRefused.Reason.NO_LEASE, me + " cannot reach a majority of its group to confirm it is still primary");
    }

    private void decideIfCoordinator() {
        if (!channel.isConnected() || channel.getView() == null) {
            lastDecision = "not connected to the group yet";
            return;
        }
        if (!channel.getAddress().equals(channel.getView().getCoord())) {
            // the view's coordinator decides; the others say what they follow, so every node's last decision reads plainly
            String coord = String.valueOf(channel.getView().getCoord());
            lastDecision = primary != null
                    ? "no action: " + primary + " is primary of term " + term()
                            + (primary.equals(me) ? "" : "; " + me + " is " + role.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '))
                            + " (" + coord + " coordinates the group's decisions)"
                    : "no primary yet: waiting for " + coord + ", the group's coordinator, to decide";
            if (maintenance()) lastDecision += "; maintenance: automatic failover paused";
            return;
        }
        List<MemberState> members = new ArrayList<>();
        members.add(self());
        for (String n : view) {
            if (n.equals(me)) continue;
            Peer p = peers.get(n);
            if (p == null || p.receivedAt() < viewSince || p.state().term() < terms.get()) {
                // it may hold newer data, or be primary: decide only on what every member says now. A status of an
                // older term is stale: it may have sat in a socket buffer while this node was frozen.
                lastDecision = "waiting for a current status of " + n;
                return;
            }
            members.add(p.state());
        }
        if (candidateTerm > 0 || switchover != null) return;
        long heardSince = now() - failureTimeout;
        List<MemberState> reachable = peers.values().stream()
                .filter(p -> !view.contains(p.state().name()) && p.receivedAt() > heardSince).map(Peer::state).toList();
        Decision d = Election.decide(new GroupView(me, members, reachable, voters, majority, config.group().preempt(), maintenance()));
        if (!d.toString().equals(lastDecision)) {
            log.info("decision: {}", d);
            lastDecision = d.toString();
        }
        long now = now();
        if (d.action() == Decision.Action.NONE || now < nominationInFlightUntil) return;
        nominationInFlightUntil = now + failureTimeout;
        if (d.action() == Decision.Action.ELECT) {
            GroupMessage.Nominate nominate = new GroupMessage.Nominate(me, d.term(), d.reason());
            if (d.candidate().equals(me)) onNominate(nominate);
            else send(d.candidate(), nominate);
        } else {
            GroupMessage.Switchover req = new GroupMessage.Switchover(me, d.candidate(), "preempt-" + d.term());
            if (primary != null) send(primary, req);
        }
    }

    private void onNominate(GroupMessage.Nominate m) {
        long t = m.term();
        if (witness || role == Role.PRIMARY || t == candidateTerm || switchover != null) return; // not while handing over
        if (!terms.vote(t, me)) return; // our own vote, recorded before asking for others' (not if we voted for another in t)
        candidateTerm = t;
        candidateSince = primaryLostAt != Long.MIN_VALUE ? primaryLostAt : now();
        candidateDeadline = now() + failureTimeout;
        grants.clear();
        grants.add(me);
        lastDecision = "candidate for term " + t + ": " + (m.reason() != null ? m.reason() : "nominated by " + m.from());
        log.info("candidate for term {} (nominated by {}), asking for votes", t, m.from());
        MemberState s = self();
        broadcast(new GroupMessage.RequestVote(me, t, s.priority(), s.lastTerm(), s.lsn(), now()));
        maybeWin();
    }

    private void onRequestVote(GroupMessage.RequestVote m) {
        long t = m.term();
        String cand = m.candidate();
        MemberState candState = new MemberState(cand, false, m.priority(), Role.NOT_IN_GROUP, t, m.lastTerm(), m.lsn());
        long myTerm = terms.get();
        Election.Vote v = Election.vote(myTerm, terms.votedFor(), self(), t, candState);
        // a granted vote is recorded (with its term: one fsync) before it is sent; a refusal still records the newer term
        if (v.granted() && !terms.vote(t, cand)) v = new Election.Vote(false, "already voted in term " + t);
        if (t > myTerm) observeHigherTerm(t, cand);
        GroupMessage.Vote reply = new GroupMessage.Vote(me, t, v.granted(), v.reason(), m.sentAt());
        // lease: no vote for another primary until our last acknowledgement of the old one has run out
        long wait = cand.equals(lastPrimaryAcked) || lastPrimaryAckAt == Long.MIN_VALUE ? 0 : lastPrimaryAckAt + lease - now();
        if (v.granted() && wait > 0) {
            log.info("vote for {} in term {} granted; sent in {} ms, when the lease of {} has run out", cand, t, wait, lastPrimaryAcked);
            promiseLease(cand);
            loop.schedule(() -> {
                // meanwhile this node may have moved to a newer term (voted in it): a vote for an older term
                // would only make a primary that the newer one has to depose
                if (terms.get() != t) {
                    log.info("vote for {} in term {} not sent: this node is in term {} now", cand, t, terms.get());
                    return;
                }
                promiseLease(cand);
                send(cand, reply);
            }, wait, TimeUnit.MILLISECONDS);
        } else {
            if (v.granted()) promiseLease(cand);
            send(cand, reply);
        }
        if (!v.granted()) log.info("vote for {} in term {} refused: {}", cand, t, v.reason());
    }

    /**
     * A granted vote is an acknowledgement too: the candidate's lease counts from its request, so this node
     * votes for no other candidate until a lease after the vote has run out (as after acking a primary's status).
     */
    private void promiseLease(String cand) {
        lastPrimaryAcked = cand;
        lastPrimaryAckAt = now();
    }

    private void onVote(GroupMessage.Vote m) {
        if (m.term() != candidateTerm) return;
        if (m.granted()) {
            grants.add(m.from());
            ackedSentAt.merge(m.from(), m.sentAt(), Math::max);
            maybeWin();
        }
    }

    private void maybeWin() {
        int needed = Election.votesNeeded(voters, majority);
        if (candidateTerm <= 0 || grants.size() < needed) return;
        long t = candidateTerm;
        candidateTerm = -1;
        roleTerm = t;
        for (Listener l : listeners) l.becomingPrimary(t);
        ackedSentAt.keySet().retainAll(grants);
        changeRole(Role.PRIMARY, t, "elected in term " + t + " with the votes of " + new java.util.TreeSet<>(grants) + " (" + needed
                + " needed)", now() - candidateSince);
        renewLease(now());
        setPrimary(me, httpUrl);
        primaryLostAt = Long.MIN_VALUE;
        handedOverLsn = 0; // its own writes from now on are acknowledged under its own lease only
        if (switchover != null) { // handed over, but the group elected this node again: that switchover is over
            reply(switchover.replyTo(), switchover.requestId(), false, switchover.target() + " did not become primary; the group elected "
                    + me + " again (term " + t + ")", now() - switchover.startedAt());
            switchover = null;
        }
        broadcast(statusMessage(now()));
    }

    private void changeRole(Role next, long term, String reason, long tookMillis) {
        Role prev = role;
        if (prev == next) return;
        if (prev == Role.PRIMARY) {
            handingOver = false;
            leaseUntil = Long.MIN_VALUE;
            if (me.equals(primary)) setPrimary(null, null);
        }
        role = next;
        log.info("role {} -> {} (term {}): {}", prev, next, term, reason);
        for (Listener l : listeners) {
            try {
                l.roleChanged(prev, next, term, reason, tookMillis);
            } catch (RuntimeException e) {
                log.error("role listener failed", e);
            }
        }
        releaseWaiters();
    }

    /** Tells the listeners about an event of the group (peers, replication, maintenance, divergence). */
    public void emit(String type, JsonObject data) {
        for (Listener l : listeners) l.event(type, data);
    }

    // --- switchover (on the primary) ---

    private void onSwitchover(GroupMessage.Switchover m) {
        String id = m.id();
        String from = m.from();
        if (role != Role.PRIMARY) {
            if (primary != null && !primary.equals(me)) send(primary, m);
            else reply(from, id, false, "no primary to switch over from", 0);
            return;
        }
        if (switchover != null) {
            reply(from, id, false, "a switchover to " + switchover.target() + " is already in progress", 0);
            return;
        }
        String target = m.to();
        if (target == null) {
            target = Election.candidate(peers.values().stream().map(Peer::state).filter(s -> view.contains(s.name())).toList())
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
        if (data != null) data.awaitCommitsInFlight(); // then the last LSN is final: the target must reach it, not one before
        long now = now();
        switchover = new Switchover(target, id, from, now, now + config.replication().syncTimeout().toMillis(), data == null ? 0 : data.lastLsn());
        log.info("switchover to {} started: writes paused, waiting for it to reach lsn {}", target, switchover.startLsn());
        progressSwitchover(now);
    }

    private void progressSwitchover(long now) {
        Switchover s = switchover;
        if (s == null) return;
        if (role != Role.PRIMARY) {
            // we handed over (or lost the role); done when the target shows up as primary
            if (s.target().equals(primary)) {
                reply(s.replyTo(), s.requestId(), true, s.target() + " is primary", now - s.startedAt());
                switchover = null;
            } else if (now > s.deadline() + failureTimeout) {
                reply(s.replyTo(), s.requestId(), false, s.target() + " did not become primary in time; the group will elect a primary", now - s.startedAt());
                switchover = null;
            }
            return;
        }
        Peer p = peers.get(s.target());
        if (p != null && p.state().witness()) {
            // a target that was in the view but not heard from when the switchover began turned out to be a witness
            // (it holds no data: with an empty store its LSN would pass the check below)
            handingOver = false;
            reply(s.replyTo(), s.requestId(), false, s.target() + " is not a data node of the group; " + me + " stays primary", now - s.startedAt());
            switchover = null;
            releaseWaiters();
            return;
        }
        long myLsn = data == null ? 0 : data.lastLsn();
        // the target has this node's history: as long, and its newest change of the same term (a follower's log, not a
        // longer divergent one of its own)
        if (p != null && p.state().lsn() >= myLsn && (data == null || p.state().lastTerm() == data.lastTerm())) {
            handedOverLsn = myLsn; // commits stopped at the barrier: every write up to here is in the target's history
            long t = Math.max(terms.get(), roleTerm) + 1;
            // this node's own vote in t goes to the target, recorded first: a coordinator that sees no primary for a
            // moment and nominates this node (same data, earlier name) cannot make it a rival candidate in t
            terms.vote(t, s.target());
            send(s.target(), new GroupMessage.Nominate(me, t, "switchover from " + me));
            changeRole(Role.SECONDARY, roleTerm, "switchover to " + s.target() + " (term " + t + ")", 0);
            broadcast(new GroupMessage.Resign(me, roleTerm));
            broadcast(statusMessage(now));
        } else if (now > s.deadline()) {
            handingOver = false;
            reply(s.replyTo(), s.requestId(), false, s.target() + " did not catch up (lsn " + (p == null ? "?" : p.state().lsn()) + " of " + myLsn
                    + ") within replication.sync_timeout; " + me + " stays primary", now - s.startedAt());
            switchover = null;
            releaseWaiters();
        }
    }

    private void reply(String to, String id, boolean ok, String message, long tookMs) {
        GroupMessage.SwitchoverDone done = new GroupMessage.SwitchoverDone(id, ok, message,
                ok ? (switchover != null ? switchover.target() : me) : primary, tookMs);
        if (to == null || to.equals(me)) onMessage(done);
        else send(to, done);
    }

    private void finishSwitchover(String id, String newPrimary, boolean ok, String message, long tookMs) {
        CompletableFuture<JsonObject> f = pendingSwitchovers.remove(id);
        if (f != null) f.complete(new JsonObject().put("ok", ok).put("primary", newPrimary).put("message", message).put("took_ms", tookMs));
    }

    private void adoptMaintenance(boolean enabled, long version, String how) {
        if (version <= maintenanceFile.version()) return;
        boolean changed = enabled != maintenanceFile.enabled();
        maintenanceFile.set(enabled, version);
        if (changed) {
            log.info("maintenance {} ({}): automatic failover {}", enabled ? "on" : "off", how, enabled ? "paused" : "resumed");
            emit("MAINTENANCE_CHANGED", new JsonObject().put("enabled", enabled));
        }
    }

    // --- sending ---

    private void broadcast(GroupMessage m) {
        send((Address) null, GroupCodec.encode(m));
    }

    private void send(String to, GroupMessage m) {
        if (to.equals(me)) {
            onMessage(m);
            return;
        }
        Address a = addressOf(to);
        if (a != null) send(a, GroupCodec.encode(m));
    }

    /** Replication's messages (JSON of their own). */
    private void sendJson(String to, JsonObject m) {
        if (to.equals(me)) {
            onMessage(m, me);
            return;
        }
        Address a = addressOf(to);
        if (a != null) send(a, m);
    }

    private Address addressOf(String member) {
        View v = channel.getView();
        if (v == null) return null;
        for (Address a : v.getMembers()) {
            if (member.equals(name(a))) return a;
        }
        return null;
    }

    private void send(Address to, JsonObject m) {
        try {
            channel.send(new BytesMessage(to, m.encode().getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            log.debug("send {} failed: {}", m.getString("type"), e.toString());
        }
    }

    @Override
    public void close() {
        try {
            loop.submit(() -> {
                if (role == Role.PRIMARY) {
                    handingOver = true;
                    broadcast(new GroupMessage.Resign(me, roleTerm));
                }
            }).get(1, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
        loop.shutdownNow();
        channel.close();
    }
}
