package dev.tandem.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Real network partitions between real processes. Each member runs in a network namespace of its own
 * ({@code ip netns exec}), its {@code eth0} a veth pair to a bridge in one more namespace; the test JVM reaches
 * the members through one more veth pair from the root namespace. Nothing leaves the machine: the subnet
 * exists only on these links.
 *
 * <pre>
 *   root ns: tnd&lt;pid&gt; 10.231.X.254 ──┐
 *   tandem-&lt;pid&gt;-node-a: eth0 .1 ───────┤ br0 (tandem-&lt;pid&gt;-sw)
 *   tandem-&lt;pid&gt;-node-b: eth0 .2 ───────┤
 *   tandem-&lt;pid&gt;-witness: eth0 .3 ──────┘
 * </pre>
 *
 * {@link #isolate} cuts one side off from the other members, both directions, with a blackhole route in each
 * member's own routing table for each address across the cut: the packets of open connections vanish, new
 * connections fail at once. The clients (the root namespace) still reach every member, as the fault endpoint's
 * partition allows. Needs root and iproute2; {@link #unavailable} says why not.
 */
public final class NetNamespaces implements AutoCloseable {
    private static final String IP = "/usr/sbin/ip";
    private static final Path RUN = Path.of("/run/netns");

    private final String id;
    private final String subnet;
    private final Map<String, Integer> members = new LinkedHashMap<>();
    private final Set<List<String>> blackholes = new LinkedHashSet<>();

    private NetNamespaces(String id, String subnet) {
        this.id = id;
        this.subnet = subnet;
    }

    /** Why namespaces cannot be made here, or null if they can be tried. */
    public static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) return "not root: network namespaces need root";
        if (!Files.isExecutable(Path.of(IP))) return IP + " (iproute2) is missing";
        return null;
    }

    /** A namespace per member (in order: addresses .1, .2, ...), the bridge and the root namespace's link, all up. */
    public static NetNamespaces create(List<String> names) throws IOException, InterruptedException {
        removeStale();
        long pid = ProcessHandle.current().pid();
        NetNamespaces n = new NetNamespaces("tandem-" + pid, "10.231." + freeSubnet() + ".");
        try {
            String sw = n.id + "-sw";
            HostCommand.run(IP, "netns", "add", sw);
            HostCommand.run(IP, "-n", sw, "link", "add", "br0", "type", "bridge");
            HostCommand.run(IP, "-n", sw, "link", "set", "br0", "up");
            for (int i = 0; i < names.size(); i++) {
                String ns = n.ns(names.get(i));
                n.members.put(names.get(i), i + 1);
                HostCommand.run(IP, "netns", "add", ns);
                HostCommand.run(IP, "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "p" + i, "netns", sw);
                HostCommand.run(IP, "-n", sw, "link", "set", "p" + i, "master", "br0");
                HostCommand.run(IP, "-n", sw, "link", "set", "p" + i, "up");
                HostCommand.run(IP, "-n", ns, "addr", "add", n.host(names.get(i)) + "/24", "dev", "eth0");
                HostCommand.run(IP, "-n", ns, "link", "set", "lo", "up");
                HostCommand.run(IP, "-n", ns, "link", "set", "eth0", "up");
            }
            String root = n.rootLink();
            HostCommand.run(IP, "link", "add", root, "type", "veth", "peer", "name", "pc", "netns", sw);
            HostCommand.run(IP, "-n", sw, "link", "set", "pc", "master", "br0");
            HostCommand.run(IP, "-n", sw, "link", "set", "pc", "up");
            HostCommand.run(IP, "addr", "add", n.subnet + "254/24", "dev", root);
            HostCommand.run(IP, "link", "set", root, "up");
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** The member's address, to bind to and to be reached at. */
    public String host(String member) {
        Integer i = members.get(member);
        if (i == null) throw new IllegalArgumentException("no namespace for " + member + ": " + members.keySet());
        return subnet + i;
    }

    /** The command prefix that runs a program in the member's namespace; it execs, so the PID is the program's. */
    public List<String> launcher(String member) {
        host(member);
        return List.of(IP, "netns", "exec", ns(member));
    }

    /** Cuts {@code side} off from every other member, both directions. */
    public void isolate(Collection<String> side) throws IOException, InterruptedException {
        for (String a : members.keySet()) {
            for (String b : members.keySet()) {
                if (side.contains(a) == side.contains(b)) continue;
                List<String> route = List.of(ns(a), host(b) + "/32");
                if (blackholes.add(route)) HostCommand.run(IP, "-n", route.get(0), "route", "add", "blackhole", route.get(1));
            }
        }
    }

    /** Removes every cut. */
    public void heal() throws IOException, InterruptedException {
        for (List<String> route : new ArrayList<>(blackholes)) {
            HostCommand.run(IP, "-n", route.get(0), "route", "del", "blackhole", route.get(1));
            blackholes.remove(route);
        }
    }

    /** Deletes the namespaces (their links go with them); processes still in one keep it until they exit. */
    @Override
    public void close() throws IOException, InterruptedException {
        HostCommand.exec(IP, "link", "del", rootLink());
        HostCommand.exec(IP, "netns", "del", id + "-sw");
        for (String m : members.keySet()) HostCommand.exec(IP, "netns", "del", ns(m));
    }

    private String ns(String member) {
        return id + "-" + member;
    }

    private String rootLink() {
        return "tnd" + id.substring("tandem-".length()); // at most 15 characters: a pid has at most 7 digits
    }

    /** Namespaces left by a run whose JVM is gone (killed before it could close them). */
    private static void removeStale() throws IOException, InterruptedException {
        if (!Files.isDirectory(RUN)) return;
        List<String> stale = new ArrayList<>();
        try (var names = Files.list(RUN)) {
            names.map(p -> p.getFileName().toString()).filter(s -> s.matches("tandem-\\d+-.+")).forEach(s -> {
                long pid = Long.parseLong(s.split("-")[1]);
                if (ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) stale.add(s);
            });
        }
        for (String s : stale) HostCommand.exec(IP, "netns", "del", s);
    }

    /** The third octet of a 10.231.X.0/24 that no address of this machine is in. */
    private static int freeSubnet() throws IOException, InterruptedException {
        String used = HostCommand.output(IP, "-4", "-o", "addr", "show"); // the machine's addresses: a few lines
        for (int x = 1; x < 255; x++) if (!used.contains(" 10.231." + x + ".")) return x;
        throw new IOException("no free 10.231.X.0/24 subnet for the test namespaces");
    }
}
