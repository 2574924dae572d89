package dev.tandem.cluster;

import dev.tandem.api.EventId;
import dev.tandem.api.NodeRole;
import dev.tandem.config.TandemConfig;
import dev.tandem.core.GroupMessage;
import dev.tandem.core.GroupState;
import dev.tandem.core.GroupEffect;
import dev.tandem.core.GroupInput;
import dev.tandem.core.RoleState;
import dev.tandem.core.TimingRules;
import dev.tandem.core.WriteRefused;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership of its availability group: the driver of the protocol's state machine
 * ({@link GroupState}, pure). JGroups views, group messages, heartbeat ticks and operator requests become
 * its inputs, all on one thread ("group"); its effects are carried out here in order: the term and vote
 * recorded durably ({@link TermFile}) before the sends that follow, messages sent, listeners told. What
 * other threads read (role, lease, primary) is published after each effect that changes it, so the store's
 * write gate opens only after the new write term is set.
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
        void roleChanged(NodeRole previous, NodeRole now, long term, String reason, long tookMillis);

        /** Just before this node starts acting as primary of {@code term} (writes will carry it). */
        default void becomingPrimary(long term) {}

        /** An event of the group: a peer joined or was lost, maintenance changed. */
        default void event(EventId id, JsonObject data) {}
    }

    private final TandemConfig config;
    private final String me;
    private final TermFile terms;
    private final DataState data;
    private final GroupChannel channel;
    private final ScheduledExecutorService loop;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final MaintenanceFile maintenanceFile;
    private final GroupState state;
    private volatile RoleState published;
    private final Map<String, CompletableFuture<JsonObject>> pendingSwitchovers = new LinkedHashMap<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private volatile Supplier<JsonObject> replicationInfo = () -> new JsonObject().put("mode", "none");
    private final OncePerMinute logLimit = new OncePerMinute();

    private record Waiter(CompletableFuture<Void> future, long deadline, BooleanSupplier ready, Supplier<WriteRefused> refusal) {}

    public GroupMember(TandemConfig config, TermFile terms, DataState data, GroupChannel channel) {
        this.config = config;
        this.me = config.node().name();
        this.terms = terms;
        this.data = data;
        this.channel = channel;
        this.maintenanceFile = new MaintenanceFile(config.node().dataDir());
        TandemConfig.Group g = config.group();
        this.state = new GroupState(new GroupState.Settings(me, config.isWitness(), config.node().priority(), g.members().size(),
                g.quorum() == TandemConfig.Quorum.MAJORITY, g.preempt(), g.heartbeatInterval().toMillis(),
                TimingRules.lease(g.heartbeatInterval()).toMillis(), g.failureTimeout().toMillis(),
                config.replication().syncTimeout().toMillis(), g.bind().toString(), g.members().indexOf(g.bind())),
                terms.get(), terms.votedFor(), maintenanceFile.enabled(), maintenanceFile.version(), now());
        this.loop = dev.tandem.util.Threads.scheduled("group-" + me);
        publish();
    }

    public void addListener(Listener l) {
        listeners.add(l);
    }

    public void setReplicationInfo(Supplier<JsonObject> info) {
        this.replicationInfo = info;
    }

    public void setHttpUrl(String url) {
        state.setHttpUrl(url);
    }

    /** Joins the group; returns once connected (the election follows on the group thread). */
    public GroupMember start() throws Exception {
        channel.subscribe(GroupChannel.GROUP, (sender, m) -> loop.execute(() -> guarded(() -> onWire(m, sender))));
        channel.onView(v -> loop.execute(() -> guarded(() -> step(new GroupInput.ViewChanged(v.members(), v.coordinator(), v.coordinatorAddress())))));
        channel.connect(config.group().name());
        loop.scheduleAtFixedRate(() -> guarded(() -> step(new GroupInput.Tick())), 0, config.group().heartbeatInterval().toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    // ------------------------------------------------------------------ the driver (group thread)

    /** A group message off the wire (from {@code sender}): decoded and checked whole before the protocol sees it. */
    private void onWire(JsonObject m, String sender) {
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
        step(new GroupInput.Received(gm));
    }

    private GroupState.Data dataNow() {
        return data == null ? GroupState.Data.NONE : new GroupState.Data(data.lastTerm(), data.lastLsn());
    }

    /** One input through the state machine, then its effects in order. */
    private void step(GroupInput in) {
        List<GroupEffect> effects = state.step(in, now(), dataNow());
        for (GroupEffect e : effects) apply(e);
        publish();
        releaseWaiters();
    }

    private void apply(GroupEffect e) {
        if (e instanceof GroupEffect.PersistTerm p) {
            if (p.votedFor() == null) terms.raise(p.term());
            else terms.vote(p.term(), p.votedFor());
        } else if (e instanceof GroupEffect.PersistMaintenance p) {
            maintenanceFile.set(p.enabled(), p.version());
        } else if (e instanceof GroupEffect.Send s) {
            channel.send(s.to(), GroupCodec.encode(s.message()));
        } else if (e instanceof GroupEffect.Later l) {
            loop.schedule(() -> guarded(() -> step(l.input())), l.delayMs(), TimeUnit.MILLISECONDS);
        } else if (e instanceof GroupEffect.BecomingPrimary b) {
            for (Listener l : listeners) l.becomingPrimary(b.term());
        } else if (e instanceof GroupEffect.RoleChanged r) {
            publish(); // the new role is what the listeners (and the write gate) see from here on
            for (Listener l : listeners) {
                try {
                    l.roleChanged(r.previous(), r.now(), r.term(), r.reason(), r.tookMs());
                } catch (RuntimeException ex) {
                    log.error("role listener failed", ex);
                }
            }
            releaseWaiters();
        } else if (e instanceof GroupEffect.Event ev) {
            JsonObject data = new JsonObject(new LinkedHashMap<>(ev.data()));
            for (Listener l : listeners) l.event(ev.id(), data);
        } else if (e instanceof GroupEffect.SwitchoverFinished f) {
            CompletableFuture<JsonObject> fut = pendingSwitchovers.remove(f.id());
            if (fut != null) {
                fut.complete(new JsonObject().put("ok", f.ok()).put("primary", f.primary()).put("message", f.message()).put("took_ms", f.tookMs()));
            }
        } else if (e instanceof GroupEffect.DrainCommits) {
            publish(); // handing over: the write gate closes first, then the commits that passed it finish
            if (data != null) data.awaitCommitsInFlight();
            step(new GroupInput.CommitsDrained()); // at once, as one with the request: nothing else comes between
        } else if (e instanceof GroupEffect.Log l) {
            log.info("{}", l.line());
        }
    }

    private void publish() {
        published = state.roleState();
    }

    private void releaseWaiters() {
        if (waiters.isEmpty()) return;
        long now = now();
        waiters.removeIf(w -> {
            if (w.ready().getAsBoolean()) return w.future().complete(null) || true;
            if (now > w.deadline()) return w.future().completeExceptionally(w.refusal().get()) || true;
            return false;
        });
    }

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

    // ------------------------------------------------------------------ operator actions

    /** Planned switchover (to {@code target}, or the best secondary when null). Completes when done. */
    public CompletableFuture<JsonObject> switchover(String target) {
        CompletableFuture<JsonObject> f = new CompletableFuture<>();
        String id = java.util.UUID.randomUUID().toString();
        loop.execute(() -> guarded(() -> {
            pendingSwitchovers.put(id, f);
            step(new GroupInput.SwitchoverRequested(target, id));
        }));
        long failureTimeout = config.group().failureTimeout().toMillis();
        return f.orTimeout(config.replication().syncTimeout().toMillis() + failureTimeout + 5000, TimeUnit.MILLISECONDS);
    }

    /** Pauses (or resumes) automatic failover group-wide. */
    public CompletableFuture<Boolean> setMaintenance(boolean enabled) {
        return CompletableFuture.supplyAsync(() -> {
            step(new GroupInput.MaintenanceSet(enabled));
            return enabled;
        }, loop);
    }

    // ------------------------------------------------------------------ reads (any thread)

    public RoleState roleState() {
        return published;
    }

    public NodeRole role() {
        return published.role();
    }

    public long term() {
        return published.term();
    }

    public String primary() {
        return published.primary();
    }

    public String primaryHttp() {
        return published.primaryHttp();
    }

    /** Primary of the newest term, holding its lease, not handing over: it may acknowledge writes now. */
    public boolean mayAcknowledge() {
        return published.mayAcknowledge(now());
    }

    /** Primary and not handing over: it may commit writes (acknowledged only under {@link #mayAcknowledge}). */
    public boolean mayWrite() {
        return published.mayWrite();
    }

    /** The last LSN of this node's history that its switchover target confirmed having when this node stepped down (0: none). */
    public long handedOverLsn() {
        return published.handedOverLsn();
    }

    /** Why this node may not acknowledge a write now. */
    public WriteRefused notWritable() {
        return state.notWritable();
    }

    public List<String> view() {
        return state.view();
    }

    /** Members of the current view, other than this node, that are (or may be: not heard from yet) data nodes. */
    public List<String> dataPeersInView() {
        return dataPeers(state.view(), state.peers(), me, Long.MIN_VALUE);
    }

    /**
     * As {@link #dataPeersInView}, without the members last heard from before {@code since} ({@link #now} millis).
     * A frozen member (SIGSTOP, a long pause) stays in the view until failure detection drops it, and a new
     * primary can be elected before that: such a member confirms nothing.
     */
    public List<String> dataPeersHeardSince(long since) {
        return dataPeers(state.view(), state.peers(), me, since);
    }

    /** The members of {@code view} but {@code me} that may be data nodes: not heard from yet, or a data node last heard from at or after {@code since}. */
    static List<String> dataPeers(List<String> view, Map<String, GroupState.Peer> peers, String me, long since) {
        return view.stream().filter(n -> !n.equals(me)).filter(n -> {
            GroupState.Peer p = peers.get(n);
            return p == null || (!p.state().witness() && p.receivedAt() >= since);
        }).toList();
    }

    public boolean maintenance() {
        return state.maintenance();
    }

    public String lastDecision() {
        return state.lastDecision();
    }

    /** The protocol's state, for the group's JSON (read it on the group thread: {@link #onGroupThread}). */
    public GroupState state() {
        return state;
    }

    /** This node's data now (0, 0 on a witness). */
    public GroupState.Data data() {
        return dataNow();
    }

    public TandemConfig config() {
        return config;
    }

    /** Runs {@code read} on the group thread, where the protocol's state holds still. */
    public <T> CompletableFuture<T> onGroupThread(Supplier<T> read) {
        return CompletableFuture.supplyAsync(read, loop);
    }

    /**
     * Completes when the write at {@code lsn} may be acknowledged: this node may acknowledge writes, or it handed
     * the primary role over in a switchover to a node that had this node's history up to at least {@code lsn}
     * (so the write is in the new primary's history; without this it would wait out the timeout and be refused).
     */
    public CompletableFuture<Void> awaitAcknowledgeable(long lsn, long timeoutMs) {
        return await(() -> mayAcknowledge() || lsn <= published.handedOverLsn(), this::notWritable, timeoutMs);
    }

    /** Completes once a primary that takes writes is known (this node or another), e.g. after a failover. */
    public CompletableFuture<Void> awaitPrimary(long timeoutMs) {
        return await(() -> {
            RoleState r = published;
            return r.role() == NodeRole.PRIMARY ? !r.handingOver() : r.primary() != null && r.primaryHttp() != null;
        }, () -> new WriteRefused(WriteRefused.Reason.NOT_PRIMARY, "no primary elected yet (failover in progress, or no quorum)"), timeoutMs);
    }

    private CompletableFuture<Void> await(BooleanSupplier ready, Supplier<WriteRefused> refusal, long timeoutMs) {
        if (ready.getAsBoolean()) return CompletableFuture.completedFuture(null);
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.execute(() -> {
            waiters.add(new Waiter(f, now() + timeoutMs, ready, refusal));
            releaseWaiters();
        });
        return f;
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
    public List<String> groupOrigins() {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(state.knownHttp());
        String own = state.httpUrl();
        if (!own.isEmpty()) all.add(own.toLowerCase(java.util.Locale.ROOT));
        return List.copyOf(all);
    }

    /** True when {@code origin} (scheme://host:port) is this node's own HTTP URL or one a member of the group announced. */
    public boolean isGroupOrigin(String origin) {
        if (origin == null) return false;
        String o = origin.toLowerCase(java.util.Locale.ROOT);
        String own = state.httpUrl();
        return o.equals(own.toLowerCase(java.util.Locale.ROOT)) || state.knownHttp().contains(o);
    }

    /** Fault injection when the channel was built with it (tests), else null. */
    public FaultInjection faults() {
        return channel.faults();
    }

    public GroupChannel channel() {
        return channel;
    }

    /** The group's clock (monotonic milliseconds): leases and heartbeat ages are measured on it. */
    public static long now() {
        return System.nanoTime() / 1_000_000;
    }

    @Override
    public void close() {
        try {
            loop.submit(() -> guarded(() -> step(new GroupInput.Closing()))).get(1, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
        loop.shutdownNow();
        channel.close();
    }
}
