package dev.tandem.core;

import dev.tandem.api.NodeRole;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A deterministic world for real {@link GroupState} instances: one simulated clock, a network that delays,
 * drops, partitions and holds messages, members that crash (losing everything but their durable term, vote,
 * maintenance flag and data), pause (a SIGSTOP: inputs queue up) and restart; views computed from what can
 * reach what and delivered after the failure timeout, as JGroups would. Writes are modelled as strict sync
 * replication: the primary appends (its term, next LSN), the data nodes it can reach copy its history, and a
 * write counts as acknowledged only if the primary may acknowledge and another data node has it.
 *
 * <p>It checks, after every event: at most one member may acknowledge writes at any instant; a member votes
 * for one candidate per term, across restarts; a member that becomes primary has every acknowledged write.
 */
final class GroupSim {
    static final long HB = 100, FAILURE_TIMEOUT = 1000, LEASE = TimingRules.lease(java.time.Duration.ofMillis(HB)).toMillis();

    final class Member {
        final String name;
        final boolean witness;
        final int priority;
        GroupState state;
        boolean up = true, paused;
        long term;            // durable
        String votedFor;      // durable
        boolean maintenance;  // durable
        long maintenanceVersion;
        long lastTerm, lsn;   // durable data: (term, lsn) of its newest change
        final List<long[]> log = new ArrayList<>(); // its history: {lsn, term}
        List<String> view = List.of();
        int inFlight; // commits past the write gate, not yet in its log (see commitInFlight)
        final List<Runnable> queued = new ArrayList<>(); // inputs that arrived while paused
        final List<String> logLines = new ArrayList<>(); // its protocol log (Log effects), across restarts
        int logRead; // how many of them a scenario's `logs` already printed

        Member(String name, boolean witness, int priority) {
            this.name = name;
            this.witness = witness;
            this.priority = priority;
            boot();
        }

        void boot() {
            state = new GroupState(new GroupState.Settings(name, witness, priority, voters, majority, preempt,
                    HB, LEASE, FAILURE_TIMEOUT, 2000, name + ":7800", new ArrayList<>(members.keySet()).indexOf(name)), term, votedFor,
                    maintenance, maintenanceVersion, now);
            state.setHttpUrl("http://" + name + ":8080");
            view = List.of();
        }

        GroupState.Data data() {
            return witness ? GroupState.Data.NONE : new GroupState.Data(lastTerm, lsn);
        }
    }

    private record Event(long at, long seq, Runnable action) {}

    final Random random;
    final int voters;
    final boolean majority, preempt;
    final Map<String, Member> members = new LinkedHashMap<>();
    private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private long seq;
    long now;
    double dropRate;
    long maxDelay = 5;
    /** Pairs that cannot talk ("a|b", both orders). */
    final Set<String> cut = new TreeSet<>();
    /** A rule for messages to hold in flight until {@link #release()}. */
    interface Hold {
        boolean test(String from, String to, GroupMessage m);
    }

    /** Messages matching this are held in flight until {@link #release()}. */
    Hold hold = (from, to, m) -> false;
    private final List<Runnable> held = new ArrayList<>();
    /** Whether the answer to DrainCommits (the commits in flight finishing) is held until {@link #release()}. */
    boolean holdDrain;
    /** The acknowledged writes: {lsn, term}. */
    final List<long[]> acknowledged = new ArrayList<>();
    final Map<String, String> votes = new HashMap<>(); // member + "@" + term -> candidate
    final List<String> trace = new ArrayList<>();
    /** NodeRole changes and switchover results since the last {@link #takeNotes()}: what a scenario prints. */
    private final List<String> notes = new ArrayList<>();
    boolean traceOn;
    int elections, failures;
    /** A hash of every effect of every member, in order: a change to the protocol code that means to change nothing keeps it. */
    long effectsHash;

    GroupSim(long seed, boolean majority, boolean preempt, String... spec) {
        this.random = new Random(seed);
        this.majority = majority;
        this.preempt = preempt;
        this.voters = spec.length;
        for (String s : spec) {
            String[] p = s.split(":");
            members.put(p[0], null);
        }
        for (String s : spec) {
            String[] p = s.split(":");
            members.put(p[0], new Member(p[0], p[1].equals("witness"), p.length > 2 ? Integer.parseInt(p[2]) : 100));
        }
        for (Member m : members.values()) scheduleTick(m, random.nextInt((int) HB));
        recomputeViews(0);
    }

    // ------------------------------------------------------------------ the world

    void at(long when, Runnable r) {
        events.add(new Event(Math.max(when, now), seq++, r));
    }

    /** Runs events until {@code until} (simulated ms). */
    void runUntil(long until) {
        while (!events.isEmpty() && events.peek().at <= until) {
            Event e = events.poll();
            now = e.at;
            e.action.run();
            check();
        }
        now = Math.max(now, until);
    }

    void run(long forMs) {
        runUntil(now + forMs);
    }

    private void scheduleTick(Member m, long delay) {
        Member boot = m;
        at(now + delay, () -> {
            if (members.get(boot.name) != boot || !boot.up) return;
            input(boot, new GroupInput.Tick());
            scheduleTick(boot, HB + random.nextInt(3));
        });
    }

    /** Whether a message from a to b arrives (a paused b takes it when it wakes, as a socket buffer would). */
    boolean canTalk(String a, String b) {
        Member x = members.get(a), y = members.get(b);
        return x.up && y.up && !cut.contains(a + "|" + b);
    }

    /** Whether a and b see each other in their views: both up, neither paused (failure detection), no cut. */
    boolean connected(String a, String b) {
        Member x = members.get(a), y = members.get(b);
        return canTalk(a, b) && !x.paused && !y.paused;
    }

    void isolate(String name) {
        for (String o : members.keySet()) {
            if (o.equals(name)) continue;
            cut.add(name + "|" + o);
            cut.add(o + "|" + name);
        }
        recomputeViews(FAILURE_TIMEOUT);
    }

    void heal() {
        cut.clear();
        recomputeViews(FAILURE_TIMEOUT / 2);
    }

    void crash(String name) {
        Member m = members.get(name);
        if (!m.up) return;
        m.up = false;
        m.paused = false;
        m.queued.clear();
        trace(name + " crashes");
        recomputeViews(10); // its connections close: the others notice at once, as after a kill -9
    }

    void restart(String name) {
        Member m = members.get(name);
        if (m.up) return;
        m.up = true;
        m.boot();
        trace(name + " restarts (term " + m.term + ", voted for " + m.votedFor + ", data " + m.lastTerm + "/" + m.lsn + ")");
        scheduleTick(m, random.nextInt((int) HB));
        recomputeViews(200);
    }

    void pause(String name, long forMs) {
        Member m = members.get(name);
        if (!m.up || m.paused) return;
        m.paused = true;
        trace(name + " pauses for " + forMs + " ms");
        // a paused member stops answering heartbeats: after the failure timeout the others' view drops it
        recomputeViews(FAILURE_TIMEOUT);
        GroupState boot = m.state;
        at(now + forMs, () -> {
            if (!m.up || m.state != boot) return;
            m.paused = false;
            trace(name + " wakes");
            List<Runnable> q = new ArrayList<>(m.queued);
            m.queued.clear();
            q.forEach(Runnable::run);
            recomputeViews(FAILURE_TIMEOUT / 2);
        });
    }

    /** Every member's view: the members it can talk to (itself included), delivered after {@code delay}. */
    void recomputeViews(long delay) {
        at(now + delay, () -> {
            for (Member m : members.values()) {
                if (!m.up || m.paused) continue; // a frozen process installs no view; it gets the current one when it wakes
                List<String> v = new ArrayList<>();
                for (String o : members.keySet()) if (o.equals(m.name) || connected(m.name, o)) v.add(o);
                if (v.equals(m.view)) continue;
                m.view = v;
                input(m, new GroupInput.ViewChanged(v, v.get(0).equals(m.name), v.get(0)));
            }
        });
    }

    /**
     * Gives {@code name} the view {@code members} now (coordinator: the first), whatever the network says: a
     * view that comes early or late on one member, as JGroups' failure detection may deliver it. The next
     * change of the network gives every member its real view again.
     */
    void forceView(String name, List<String> members) {
        Member m = this.members.get(name);
        m.view = List.copyOf(members);
        input(m, new GroupInput.ViewChanged(m.view, m.view.get(0).equals(name), m.view.get(0)));
    }

    /** Releases the held messages, in the order they were held. */
    void release() {
        List<Runnable> r = new ArrayList<>(held);
        held.clear();
        holdDrain = false;
        r.forEach(Runnable::run);
    }

    // ------------------------------------------------------------------ members

    void input(Member m, GroupInput in) {
        if (!m.up) return;
        if (m.paused) {
            m.queued.add(() -> input(m, in));
            return;
        }
        List<GroupEffect> effects = m.state.step(in, now, m.data());
        for (GroupEffect e : effects) {
            effectsHash = effectsHash * 31 + (m.name + " " + e).hashCode();
            apply(m, e);
        }
    }

    private void apply(Member m, GroupEffect e) {
        if (e instanceof GroupEffect.PersistTerm p) {
            if (p.votedFor() != null) {
                String prev = votes.putIfAbsent(m.name + "@" + p.term(), p.votedFor());
                if (prev != null && !prev.equals(p.votedFor())) fail(m.name + " voted for " + prev + " and " + p.votedFor() + " in term " + p.term());
            }
            if (p.term() < m.term) fail(m.name + "'s term went back from " + m.term + " to " + p.term());
            m.term = p.term();
            m.votedFor = p.votedFor();
        } else if (e instanceof GroupEffect.PersistMaintenance p) {
            m.maintenance = p.enabled();
            m.maintenanceVersion = p.version();
        } else if (e instanceof GroupEffect.Send s) {
            List<String> to = s.to() == null ? m.state.view() : List.of(s.to());
            for (String t : to) if (!t.equals(m.name)) deliver(m.name, t, s.message());
        } else if (e instanceof GroupEffect.Later l) {
            GroupState boot = m.state;
            at(now + l.delayMs(), () -> {
                if (m.state == boot) input(m, l.input()); // not after a restart
            });
        } else if (e instanceof GroupEffect.DrainCommits) {
            Runnable drained = () -> {
                landInFlight(m);
                input(m, new GroupInput.CommitsDrained());
            };
            if (holdDrain) held.add(drained);
            else drained.run();
        } else if (e instanceof GroupEffect.RoleChanged r) {
            trace(m.name + ": " + r.previous() + " -> " + r.now() + " (term " + r.term() + "): " + r.reason());
            notes.add(m.name + ": " + r.previous() + " -> " + r.now() + " (term " + r.term() + "): " + r.reason());
            if (r.now() == NodeRole.PRIMARY) {
                elections++;
                for (long[] w : acknowledged) {
                    if (!has(m, w)) fail(m.name + " became primary of term " + r.term() + " without acknowledged write lsn " + w[0] + " (term " + w[1] + ")");
                }
            }
        } else if (e instanceof GroupEffect.SwitchoverFinished f) {
            notes.add(m.name + ": switchover " + (f.ok() ? "done" : "refused") + ": " + f.message());
        } else if (e instanceof GroupEffect.Log l) {
            m.logLines.add(l.line());
            if (traceOn && (l.line().startsWith("decision") || l.line().startsWith("candidate"))) trace(m.name + ": " + l.line());
        }
    }

    private void deliver(String from, String to, GroupMessage msg) {
        if (!canTalk(from, to) || random.nextDouble() < dropRate) return;
        Runnable r = () -> {
            if (canTalk(from, to)) input(members.get(to), new GroupInput.Received(msg));
        };
        if (hold.test(from, to, msg)) {
            held.add(r);
            return;
        }
        at(now + random.nextInt((int) maxDelay + 1), r);
    }

    // ------------------------------------------------------------------ data

    private static boolean has(Member m, long[] w) {
        for (long[] c : m.log) if (c[0] == w[0]) return c[1] == w[1];
        return false;
    }

    /** The primary that may acknowledge (if any) writes one change, replicated at once to the data nodes it reaches. */
    boolean write() {
        Member p = members.values().stream().filter(m -> m.up && !m.paused && m.state.roleState().mayAcknowledge(now)).findFirst().orElse(null);
        if (p == null) return false;
        long lsn = p.lsn + 1, term = p.state.term();
        boolean copied = append(p);
        if (copied) acknowledged.add(new long[] {lsn, term});
        return copied;
    }

    /** {@code p} appends one change of its term and copies its history to the secondaries it reaches; whether any has it. */
    private boolean append(Member p) {
        long lsn = p.lsn + 1, term = p.state.term();
        p.log.add(new long[] {lsn, term});
        p.lsn = lsn;
        p.lastTerm = term;
        boolean copied = false;
        for (Member o : members.values()) {
            if (o == p || o.witness || !canTalk(p.name, o.name) || o.paused || o.state.role() != NodeRole.SECONDARY) continue;
            o.log.clear();
            o.log.addAll(p.log.stream().map(long[]::clone).toList());
            o.lsn = p.lsn;
            o.lastTerm = p.lastTerm;
            copied = true;
        }
        return copied;
    }

    /**
     * {@code n} commits that passed the write gate of {@code name} (while it could still acknowledge) and are
     * still finishing: they join its log when its commits drain (see {@link #holdDrain}).
     */
    void commitInFlight(String name, int n) {
        members.get(name).inFlight += n;
    }

    /** The member's commits in flight finish: appended to its log and, if it is still primary, copied as {@link #write()} does. */
    private void landInFlight(Member p) {
        if (p.inFlight == 0) return;
        int n = p.inFlight, ok = 0;
        p.inFlight = 0;
        long first = p.lsn + 1;
        for (int k = 0; k < n; k++) {
            long lsn = p.lsn + 1, term = p.state.term();
            if (append(p) && p.state.role() == NodeRole.PRIMARY) {
                acknowledged.add(new long[] {lsn, term});
                ok++;
            }
        }
        notes.add(p.name + ": " + n + " commits in flight finished (lsn " + first + ".." + p.lsn + "), " + ok + " replicated before the handover");
    }

    /** A secondary that follows a primary it can reach takes the primary's history (catch-up; divergence is kept aside). */
    void catchUp() {
        for (Member p : members.values()) {
            if (!p.up || p.paused || p.state.role() != NodeRole.PRIMARY) continue;
            for (Member o : members.values()) {
                if (o == p || o.witness || !o.up || o.paused || !canTalk(p.name, o.name) || o.state.role() != NodeRole.SECONDARY
                        || !p.name.equals(o.state.primary())) continue;
                o.log.clear();
                o.log.addAll(p.log.stream().map(long[]::clone).toList());
                o.lsn = p.lsn;
                o.lastTerm = p.lastTerm;
            }
        }
    }

    // ------------------------------------------------------------------ checks

    private void check() {
        if (!majority) return; // quorum: none chooses availability: both sides of a partition serve (SPEC 7)
        List<String> acking = new ArrayList<>();
        for (Member m : members.values()) if (m.up && m.state.roleState().mayAcknowledge(now)) acking.add(m.name + " (term " + m.state.term() + ")");
        if (acking.size() > 1) fail("two members may acknowledge writes at " + now + " ms: " + acking);
    }

    private void fail(String what) {
        failures++;
        throw new AssertionError(what + "\nlast events:\n  " + String.join("\n  ", trace.subList(Math.max(0, trace.size() - 40), trace.size())));
    }

    void trace(String line) {
        trace.add(String.format("%7d ms %s", now, line));
        if (trace.size() > 400) trace.subList(0, 200).clear();
    }

    List<String> takeNotes() {
        List<String> n = new ArrayList<>(notes);
        notes.clear();
        return n;
    }

    /** The members that may acknowledge now. */
    List<String> acking() {
        return members.values().stream().filter(m -> m.up && m.state.roleState().mayAcknowledge(now)).map(m -> m.name).toList();
    }

    Member member(String name) {
        return members.get(name);
    }
}
