package dev.tandem.harness;

import dev.tandem.testing.Await;
import dev.tandem.testing.Runbook;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * node-a, node-b (data, sample workflows) and a witness, each a real process on loopback, with real
 * signals. It speaks the {@link Runbook}, as the in-process group of the appliance's tests does.
 */
public final class ProcessGroup implements AutoCloseable, Runbook {
    private volatile long lastFault = System.nanoTime();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    public final Map<String, NodeProcess> nodes = new LinkedHashMap<>();
    /** The members' network namespaces, when they run in their own ({@link NetNamespaces}); null on loopback. */
    private NetNamespaces net;
    private boolean closed;
    /** Groups started and not closed yet: stopped when the JVM exits, a Ctrl-C or a kill in the middle of a start included. */
    private static final java.util.Set<ProcessGroup> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(ProcessGroup::closeAll, "process-groups-clean-up"));
        } catch (IllegalStateException exiting) {
            // first used by another shutdown hook: no group was started, none to stop
        }
    }

    /** Stops every group not closed yet (their nodes, their namespaces); what a shutdown hook of a harness' own calls first. */
    public static void closeAll() {
        for (ProcessGroup g : List.copyOf(LIVE)) g.close();
    }

    public static ProcessGroup start(Path root, String... extraYaml) throws Exception {
        return start(root, NodeProcess.home().resolve("sample-workflows"), extraYaml);
    }

    public static ProcessGroup start(Path root, Path samples, String... extraYaml) throws Exception {
        return start(root, samples, name -> "", extraYaml);
    }

    /**
     * @param workflowsExtra per node name, more entries of its {@code workflows:} flow mapping, e.g.
     *                       {@code ", commands: {vip_claim: [/usr/sbin/ip, ...]}"} (empty for none)
     */
    public static ProcessGroup start(Path root, Path samples, java.util.function.Function<String, String> workflowsExtra,
                                     String... extraYaml) throws Exception {
        return start(root, samples, workflowsExtra, name -> "", List.of("node-a", "node-b", "witness"), false, null, extraYaml);
    }

    /** As {@link #start(Path, Path, java.util.function.Function, String...)}, with more entries of each node's {@code http:} mapping. */
    public static ProcessGroup start(Path root, Path samples, java.util.function.Function<String, String> workflowsExtra,
                                     java.util.function.Function<String, String> httpExtra, String... extraYaml) throws Exception {
        return start(root, samples, workflowsExtra, httpExtra, List.of("node-a", "node-b", "witness"), false, null, extraYaml);
    }

    /**
     * node-a and node-b only (no witness, so {@code quorum: none}: both halves of a partition serve), with fault
     * injection on ({@code -Dtandem.faults=true}: {@link #isolate} and {@link #heal} work).
     */
    public static ProcessGroup startPairWithFaults(Path root, String... extraYaml) throws Exception {
        return start(root, NodeProcess.home().resolve("sample-workflows"), name -> "", name -> "", List.of("node-a", "node-b"), true, null, extraYaml);
    }

    /**
     * The fault campaign's group: {@code names} (node-a, node-b and maybe a witness; a pair alone has
     * {@code quorum: none}) serving the workflows under {@code workflows}, with fault injection on. With
     * {@code net} (which the group then owns and closes), each member runs in its namespace there and
     * {@link #isolate(String...)} cuts real links; without, they run on loopback and the fault endpoint cuts.
     */
    public static ProcessGroup startForCampaign(Path root, Path workflows, List<String> names, String workflowsExtra, NetNamespaces net) throws Exception {
        return start(root, workflows, name -> workflowsExtra, name -> "", names, true, net);
    }

    private static ProcessGroup start(Path root, Path samples, java.util.function.Function<String, String> workflowsExtra,
                                      java.util.function.Function<String, String> httpExtra, List<String> nodeNames, boolean faults,
                                      NetNamespaces net, String... extraYaml) throws Exception {
        ProcessGroup g = new ProcessGroup();
        g.net = net;
        LIVE.add(g);
        java.util.function.Function<String, String> host = name -> net == null ? "127.0.0.1" : net.host(name);
        String[] names = nodeNames.toArray(String[]::new);
        List<Integer> groupPorts = new ArrayList<>();
        for (int i = 0; i < names.length; i++) groupPorts.add(NodeProcess.freePort());
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < names.length; i++) addresses.add("\"" + host.apply(names[i]) + ":" + groupPorts.get(i) + "\"");
        String members = addresses.toString();
        Path secret = NodeProcess.secret(root);
        for (int i = 0; i < names.length; i++) {
            String name = names[i];
            int http = NodeProcess.freePort();
            String yaml = """
                    node: {name: %s, kind: %s, data_dir: %s}
                    group: {bind: %s, members: %s, secret_file: %s%s}
                    http: {bind: "%s:%d"%s}
                    workflows: {dir: %s%s}
                    %s
                    """.formatted(name, name.equals("witness") ? "witness" : "data", root.resolve(name).resolve("data"), addresses.get(i),
                    members, secret, names.length == 2 ? ", quorum: none" : "", host.apply(name), http, httpExtra.apply(name), samples,
                    workflowsExtra.apply(name), String.join("\n", extraYaml));
            NodeProcess n = new NodeProcess(name, root.resolve(name), host.apply(name), http, net == null ? List.of() : net.launcher(name), yaml);
            if (faults) n.jvmFlags.add("-Dtandem.faults=true");
            g.nodes.put(name, n);
        }
        try {
            for (NodeProcess n : g.nodes.values()) n.start();
            for (NodeProcess n : g.nodes.values()) n.awaitStatus200("/health/ready", Duration.ofSeconds(120));
        } catch (RuntimeException | java.io.IOException e) {
            g.close(); // a group that did not start leaves no process behind
            throw e;
        }
        return g;
    }

    /** Cuts {@code a} and {@code b} apart, both directions, through the fault endpoint (fault injection on: {@link #startPairWithFaults}). */
    private void isolate(NodeProcess a, NodeProcess b) throws IOException, InterruptedException {
        for (NodeProcess[] x : new NodeProcess[][] {{a, b}, {b, a}}) {
            HttpResponse<String> r = post(x[0], "/api/v1/faults/isolate", "{\"from\": [\"" + x[1].name + "\"]}", Duration.ofSeconds(5));
            if (r.statusCode() != 200) throw new AssertionError("isolate " + x[0].name + " from " + x[1].name + ": " + r.statusCode() + " " + r.body());
        }
    }

    public NodeProcess node(String name) {
        return nodes.get(name);
    }

    /** The data node answering /health/primary 200, waiting for one with a deadline; a frozen node (SIGSTOP) is not asked. */
    public NodeProcess awaitPrimary(Duration deadline) {
        return Await.value("a primary", deadline, Await.POLL, () -> {
            for (NodeProcess n : nodes.values()) {
                if (!n.name.equals("witness") && n.alive() && !n.frozen() && n.status("/health/primary", Duration.ofMillis(300)) == 200) return n;
            }
            return null;
        }, n -> n != null, this::logs);
    }

    /** The primary and the other data node. */
    public record Pair(NodeProcess primary, NodeProcess secondary) {}

    /** Waits for a primary, then for the other data node to be its in-sync secondary, each within {@code deadline}. */
    public Pair awaitPrimaryAndSecondary(Duration deadline) {
        NodeProcess p = awaitPrimary(deadline);
        NodeProcess s = other(p);
        awaitInSync(s, deadline);
        return new Pair(p, s);
    }

    /** Waits until {@code secondary} answers /health/secondary 200: caught up with the primary. */
    public static void awaitInSync(NodeProcess secondary, Duration deadline) {
        Await.until(secondary.name + " in sync", deadline, () -> secondary.status("/health/secondary", Duration.ofMillis(500)) == 200);
    }

    /** Planned switchover through {@code via} (to the best secondary when {@code to} is null); fails unless it answers 200. */
    public static JsonObject switchover(NodeProcess via, String to) throws IOException, InterruptedException {
        HttpResponse<String> r = post(via, "/api/v1/switchover", to == null ? "{}" : "{\"to\": \"" + to + "\"}", Duration.ofSeconds(30));
        if (r.statusCode() != 200) throw new AssertionError("switchover via " + via.name + " to " + to + ": " + r.statusCode() + " " + r.body());
        return new JsonObject(r.body());
    }

    public NodeProcess other(NodeProcess n) {
        return nodes.get(n.name.equals("node-a") ? "node-b" : "node-a");
    }

    public String logs() {
        StringBuilder b = new StringBuilder();
        nodes.values().forEach(n -> b.append("--- ").append(n.name).append(" ---\n").append(n.logTail(25)).append('\n'));
        return b.toString();
    }

    /** GET a JSON document from a node (admin API, with the group's admin token). */
    public static JsonObject getJson(NodeProcess n, String path) {
        return getJson(n, path, Duration.ofSeconds(5));
    }

    public static JsonObject getJson(NodeProcess n, String path, Duration timeout) {
        return new JsonObject(get(n, path, timeout).body());
    }

    /** GET with the group's admin token; a failure to get an answer at all is an IllegalStateException naming node and path. */
    private static HttpResponse<String> get(NodeProcess n, String path, Duration timeout) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(n.url() + path)).timeout(timeout)
                            .header("Authorization", "Bearer " + n.adminToken()).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(n.name + " " + path + ": " + e);
        }
    }

    /**
     * As {@link #getJson(NodeProcess, String, Duration)}, for a check that needs the answer itself: anything but a
     * 200 with a JSON object is an error that says what the node answered (not a missing field further on).
     */
    public static JsonObject getJsonOk(NodeProcess n, String path, Duration timeout) {
        HttpResponse<String> r = get(n, path, timeout);
        String body = r.body() == null ? "" : r.body();
        String excerpt = body.length() <= 300 ? body : body.substring(0, 300) + "... (" + body.length() + " characters)";
        if (r.statusCode() != 200) throw new IllegalStateException(n.name + " GET " + path + " answered " + r.statusCode() + ": " + excerpt);
        try {
            return new JsonObject(body);
        } catch (RuntimeException e) {
            throw new IllegalStateException(n.name + " GET " + path + " answered 200 with no JSON object: " + excerpt);
        }
    }

    /** POST JSON with the group's admin token; returns status and body. */
    public static HttpResponse<String> post(NodeProcess n, String path, String json, Duration timeout) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(n.url() + path)).timeout(timeout).header("content-type", "application/json")
                .header("Authorization", "Bearer " + n.adminToken())
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public String role(NodeProcess n) {
        try {
            return getJson(n, "/api/v1/node").getString("role");
        } catch (RuntimeException e) {
            return "unreachable";
        }
    }

    // ------------------------------------------------------------------ the runbook

    @Override
    public void kill9(String node) {
        lastFault = System.nanoTime();
        node(node).kill9();
    }

    /** SIGSTOP: the process holds still, sockets open, until {@link #thaw}. */
    public void freeze(String node) {
        lastFault = System.nanoTime();
        node(node).stop();
    }

    /** SIGCONT. */
    public void thaw(String node) {
        node(node).cont();
    }

    /**
     * Cuts {@code side} off from every other member, both directions: real links when the group runs in
     * namespaces, else the fault endpoint (fault injection must be on: {@link #startPairWithFaults}).
     */
    @Override
    public void isolate(String... side) {
        List<String> in = List.of(side);
        lastFault = System.nanoTime();
        try {
            if (net != null) {
                net.isolate(in);
                return;
            }
            for (NodeProcess a : nodes.values()) {
                for (NodeProcess b : nodes.values()) {
                    if (in.contains(a.name) && !in.contains(b.name)) isolate(a, b);
                }
            }
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("isolate " + in + ": " + e, e);
        }
    }

    /** How partitions are made in this group, for a report. */
    public String partitions() {
        return net != null ? "network namespaces (blackhole routes between members)" : "the fault endpoint (group messages dropped in-process)";
    }

    @Override
    public void heal() {
        try {
            if (net != null) {
                net.heal();
                return;
            }
            for (NodeProcess n : nodes.values()) {
                if (n.alive()) post(n, "/api/v1/faults/heal", "{}", Duration.ofSeconds(5));
            }
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("heal: " + e, e);
        }
    }

    @Override
    public JsonObject switchover(String via, String target) {
        lastFault = System.nanoTime();
        try {
            return switchover(node(via), target);
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("switchover via " + via + ": " + e, e);
        }
    }

    @Override
    public void maintenance(String via, boolean on) {
        try {
            HttpResponse<String> r = post(node(via), "/api/v1/maintenance", "{\"enabled\": " + on + "}", Duration.ofSeconds(10));
            if (r.statusCode() != 200) throw new AssertionError("maintenance " + on + " via " + via + ": " + r.statusCode() + " " + r.body());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("maintenance via " + via + ": " + e, e);
        }
    }

    @Override
    public boolean acknowledges(String node) {
        NodeProcess n = node(node);
        return n.alive() && !n.frozen() && n.status("/health/primary", Duration.ofMillis(300)) == 200;
    }

    /** Its role as its /api/v1/node says; DOWN when the process is gone, frozen or does not answer. */
    @Override
    public String roleOf(String node) {
        NodeProcess n = node(node);
        if (!n.alive() || n.frozen()) return "DOWN";
        String r = role(n);
        return r.equals("unreachable") ? "DOWN" : r;
    }

    @Override
    public String decision(String node) {
        return getJson(node(node), "/api/v1/node").getString("last_decision", "");
    }

    @Override
    public String describe() {
        StringBuilder b = new StringBuilder("the group now:");
        for (NodeProcess n : nodes.values()) {
            String d;
            try {
                d = roleOf(n.name).equals("DOWN") ? "-" : decision(n.name);
            } catch (RuntimeException e) {
                d = "(" + e.getMessage() + ")";
            }
            b.append("\n  ").append(n.name).append(": ").append(roleOf(n.name)).append(", decision: ").append(d);
        }
        return b.append('\n').append(logs()).toString();
    }

    @Override
    public long lastFaultNanos() {
        return lastFault;
    }

    @Override
    /** Stops the nodes and removes the namespaces; once (a second call, from a shutdown hook say, waits for the first). */
    public synchronized void close() {
        if (closed) return;
        closed = true;
        LIVE.remove(this);
        nodes.values().forEach(NodeProcess::close);
        if (net != null) {
            try {
                net.close();
            } catch (IOException | InterruptedException e) {
                System.err.println("warning: the test network namespaces were not all removed: " + e);
            }
        }
    }
}
