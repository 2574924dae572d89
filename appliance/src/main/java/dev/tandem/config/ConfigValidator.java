package dev.tandem.config;

import dev.tandem.config.TandemConfig.Address;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** Turns a loaded file's entries into a {@link TandemConfig}, checking every SPEC 3 rule and collecting every problem, not only the first. */
final class ConfigValidator {
    final Map<String, ConfigLoader.Entry> entries;
    final List<String> problems = new ArrayList<>();

    ConfigValidator(Map<String, ConfigLoader.Entry> entries) {
        this.entries = entries;
    }

    void problem(String key, String message) {
        problems.add(entries.get(key).where() + ": " + key + ": " + message);
    }

    String text(String key) {
        ConfigLoader.Entry e = entries.get(key);
        if (e.value() instanceof List<?>) {
            problem(key, "expected a single value, found a list");
            return null;
        }
        return e.isNull() ? null : String.valueOf(e.value());
    }

    String required(String key) {
        String t = text(key);
        if (t == null || t.isBlank()) {
            problem(key, "is required");
            return null;
        }
        return t;
    }

    <T> T parse(String key, Function<String, T> parser) {
        String t = required(key);
        if (t == null) return null;
        try {
            return parser.apply(t);
        } catch (IllegalArgumentException e) {
            problem(key, e.getMessage());
            return null;
        }
    }

    String name(String key) {
        return parse(key, t -> {
            if (!ConfigLoader.NAME.matcher(t).matches()) {
                throw new IllegalArgumentException("'" + t + "' is not a valid name; use 1 to 63 characters from a-z, 0-9 and '-'");
            }
            return t;
        });
    }

    <E extends Enum<E>> E choice(String key, Class<E> type) {
        return parse(key, t -> {
            for (E c : type.getEnumConstants()) {
                if (c.name().equalsIgnoreCase(t)) return c;
            }
            List<String> allowed = new ArrayList<>();
            for (E c : type.getEnumConstants()) allowed.add(c.name().toLowerCase());
            throw new IllegalArgumentException("'" + t + "' is not one of " + String.join(" | ", allowed));
        });
    }

    boolean bool(String key) {
        Boolean b = parse(key, t -> switch (t) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw new IllegalArgumentException("'" + t + "' is not a boolean; write true or false");
        });
        return b != null && b;
    }

    Integer integer(String key, int min, int max) {
        return parse(key, t -> {
            int v;
            try {
                v = Integer.parseInt(t);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + t + "' is not a whole number");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException(v + " is out of range; use " + min + ".." + max);
            }
            return v;
        });
    }

    Duration duration(String key) {
        Duration d = parse(key, Units::duration);
        if (d != null && d.isZero()) {
            problem(key, "must be longer than 0");
            return null;
        }
        return d;
    }

    static Address address(String t) {
        return address(t, 1);
    }

    /** {@code http.bind} may use port 0: any free port (tests, and several demo nodes on one machine). */
    static Address httpAddress(String t) {
        return address(t, 0);
    }

    static Address address(String t, int minPort) {
        var m = ConfigLoader.ADDRESS.matcher(t);
        int port = m.matches() ? Integer.parseInt(m.group(2)) : -1;
        if (port < minPort || port > 65535) {
            throw new IllegalArgumentException("'" + t + "' is not an address; write host:port with a port from 1 to 65535, e.g. 127.0.0.1:7800");
        }
        return new Address(m.group(1), port);
    }

    Path path(String key) {
        String t = text(key);
        return t == null ? null : Path.of(t);
    }

    TandemConfig build() {
        String nodeName = name("node.name");
        TandemConfig.Kind kind = choice("node.kind", TandemConfig.Kind.class);
        Integer priority = integer("node.priority", 0, 255);
        Path dataDir = parse("node.data_dir", Path::of);

        String groupName = name("group.name");
        Address bind = parse("group.bind", ConfigValidator::address);
        List<Address> members = members(bind);
        Path secret = parse("group.secret_file", Path::of);
        TandemConfig.Quorum quorum = choice("group.quorum", TandemConfig.Quorum.class);
        boolean preempt = bool("group.preempt");
        Duration heartbeat = duration("group.heartbeat_interval");
        Duration failure = duration("group.failure_timeout");

        TandemConfig.ReplicationMode mode = choice("replication.mode", TandemConfig.ReplicationMode.class);
        Duration syncTimeout = duration("replication.sync_timeout");
        boolean strict = bool("replication.strict");
        boolean fsync = bool("replication.fsync");
        Integer retention = integer("replication.log_retention", 1000, Integer.MAX_VALUE);

        Address httpBind = parse("http.bind", ConfigValidator::httpAddress);
        Path cert = path("http.tls.cert");
        Path key = path("http.tls.key");
        Path ca = path("http.tls.ca");
        boolean forward = bool("http.forward_to_primary");
        Duration clientTimeout = duration("http.client_timeout");
        boolean metricsPublic = bool("http.metrics_public");
        Long bodyLimit = parse("http.body_limit", Units::size);
        if (bodyLimit != null && (bodyLimit < 1024 || bodyLimit > (256L << 20))) {
            problem("http.body_limit", bodyLimit + " bytes is out of range; use 1KiB..256MiB");
        }

        Path wfDir = path("workflows.dir");
        if (wfDir == null && dataDir != null) wfDir = dataDir.resolve("workflows");
        Duration hookTimeout = duration("workflows.hook_timeout");
        Duration requestTimeout = duration("workflows.request_timeout");
        Duration loadTimeout = duration("workflows.load_timeout");
        Map<String, List<String>> commands = commands();

        // rules that relate keys to each other
        if (bind != null && members != null && !members.contains(bind)) {
            problem("group.bind", bind + " is not in group.members " + members + "; list this node's own address in members");
        }
        if (heartbeat != null && failure != null && failure.compareTo(heartbeat.multipliedBy(3)) < 0) {
            problem("group.failure_timeout", Units.format(failure) + " is less than 3 x group.heartbeat_interval ("
                    + Units.format(heartbeat) + "); a peer would be suspected after a couple of late heartbeats. Raise it to at least "
                    + Units.format(heartbeat.multipliedBy(3)));
        }
        if (syncTimeout != null && failure != null && syncTimeout.compareTo(failure) < 0) {
            problem("replication.sync_timeout", Units.format(syncTimeout) + " is less than group.failure_timeout ("
                    + Units.format(failure) + "); replication would degrade before a failure is even detected. Raise it to at least "
                    + Units.format(failure));
        }
        if ((cert == null) != (key == null)) {
            problem(cert == null ? "http.tls.cert" : "http.tls.key", "http.tls needs both cert and key, or neither");
        }
        checkReadable("http.tls.cert", cert);
        checkReadable("http.tls.key", key);
        checkReadable("http.tls.ca", ca);
        if (cert != null && key != null && Files.isReadable(cert) && Files.isReadable(key)) {
            String bad = TlsFiles.check(cert, key, ca);
            if (bad != null) problem("http.tls.cert", bad);
        }
        checkSecret(secret);

        if (!problems.isEmpty()) return null;
        return new TandemConfig(
                new TandemConfig.Node(nodeName, kind, priority, dataDir),
                new TandemConfig.Group(groupName, bind, members, secret, quorum, preempt, heartbeat, failure),
                new TandemConfig.Replication(mode, syncTimeout, strict, fsync, retention),
                new TandemConfig.Http(httpBind, cert, key, ca, forward, bodyLimit, clientTimeout, metricsPublic),
                new TandemConfig.Workflows(wfDir, hookTimeout, commands, requestTimeout, loadTimeout));
    }

    List<Address> members(Address bind) {
        ConfigLoader.Entry e = entries.get("group.members");
        if (e.isNull()) {
            return bind == null ? null : List.of(bind);
        }
        List<?> raw = e.value() instanceof List<?> l ? l : List.of(e.value());
        List<Address> out = new ArrayList<>();
        for (Object o : raw) {
            try {
                Address a = address(String.valueOf(o));
                if (out.contains(a)) {
                    problem("group.members", a + " is listed twice; list each voter once");
                }
                out.add(a);
            } catch (IllegalArgumentException ex) {
                problem("group.members", ex.getMessage());
                return null;
            }
        }
        if (out.isEmpty()) {
            problem("group.members", "is empty; list every voter of the group, this node included");
            return null;
        }
        if (out.size() > 16) {
            problem("group.members", out.size() + " members; a group has at most 16 voters");
        }
        return List.copyOf(out);
    }

    /**
     * {@code workflows.commands}: the only host programs workflows may run (G6). Each is an argument
     * vector run without a shell; the program must be an absolute path to an executable file.
     */
    Map<String, List<String>> commands() {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        for (var e : entries.entrySet()) {
            if (!ConfigLoader.isOpenMapKey(e.getKey())) continue;
            String key = e.getKey(), name = key.substring(ConfigLoader.COMMANDS.length() + 1);
            if (!ConfigLoader.COMMAND_NAME.matcher(name).matches()) {
                problem(key, "'" + name + "' is not a valid command name; use 1 to 63 characters from a-z, 0-9, '_' and '-'");
                continue;
            }
            List<?> raw = e.getValue().value() instanceof List<?> l ? l : null;
            if (raw == null || raw.isEmpty()) {
                problem(key, "expected a non-empty list: the program and its arguments, e.g. [/usr/sbin/ip, addr, replace, 192.0.2.10/24, dev, eth0]");
                continue;
            }
            List<String> argv = raw.stream().map(String::valueOf).toList();
            Path program = Path.of(argv.get(0));
            if (!program.isAbsolute()) {
                problem(key, "the program '" + argv.get(0) + "' must be an absolute path (commands run without a shell or PATH), e.g. /usr/sbin/ip");
            } else if (!Files.isRegularFile(program) || !Files.isExecutable(program)) {
                problem(key, program + " is not an executable file on this machine; install it or correct the path");
            } else {
                out.put(name, argv);
            }
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    void checkReadable(String key, Path p) {
        if (p != null && !Files.isReadable(p)) {
            problem(key, p + " does not exist or is not readable");
        }
    }

    void checkSecret(Path secret) {
        if (secret == null) return;
        String key = "group.secret_file";
        if (Files.isDirectory(secret)) {
            problem(key, secret + " is a directory; secret_file must name the file that holds the secret, e.g. /etc/tandem/cluster.key");
            return;
        }
        if (!Files.isRegularFile(secret)) {
            problem(key, secret + " does not exist; create it with: head -c 32 /dev/urandom | base64 > " + secret + " && chmod 600 " + secret);
            return;
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(secret);
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                problem(key, secret + " is world-readable; the group secret must not be: chmod 600 " + secret);
                return;
            }
            if (Files.size(secret) < 16) {
                problem(key, secret + " holds fewer than 16 bytes; use a random secret: head -c 32 /dev/urandom | base64 > " + secret);
            }
        } catch (UnsupportedOperationException | IOException e) {
            problem(key, "cannot check " + secret + ": " + e.getMessage());
        }
    }
}
