package dev.tandem.deb;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The .deb as a Debian user meets it, in real Debian 13 (trixie) and 12 (bookworm) roots: apt installs it
 * with a Java runtime from Debian; the node starts exactly as tandem.service would (its User=, ExecStart=,
 * UMask= and directories: PID 1 in a chroot is not systemd); an upgrade keeps an edited configuration,
 * the cluster secret and the state; remove keeps state, purge deletes it; a trixie install and a bookworm
 * install with the same cluster.key form a group, and one with another key cannot join. Also lintian and
 * systemd-analyze verify. The nodes listen on loopback.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DebianPackageTest {
    static final Duration SOON = Duration.ofSeconds(120); // deadlines for a slow machine, not figures
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    static final Map<String, Integer> PORT_BASE = Map.of("trixie", 0, "bookworm", 1);

    Path deb, previous;
    String version;
    final Map<String, DebianRoot> roots = new HashMap<>();
    final Path logs = Path.of("target/node-logs").toAbsolutePath();

    @BeforeAll
    void setUp() throws Exception {
        String missing = DebianRoot.missing();
        if (missing != null) {
            // CI runs as root with debootstrap installed (.ci/run): there a missing part is a failure, not a skip
            if ("true".equals(System.getenv("CI"))) throw new AssertionError(missing);
            Assumptions.abort(missing);
        }
        Path dir = Path.of(System.getProperty("tandem.deb.dir", "../deb/target"));
        try (var files = Files.list(dir)) {
            deb = files.filter(p -> p.getFileName().toString().matches("tandem_.*_all\\.deb")).findFirst()
                    .orElseThrow(() -> new AssertionError("no tandem_*_all.deb in " + dir + ": build it first (mvn package)"));
        }
        version = DebianRoot.host(List.of("dpkg-deb", "-f", deb.toString(), "Version"), 30).ok("dpkg-deb -f").out().strip();
        previous = previousBuild();
        Files.createDirectories(logs);
        System.out.printf("package %s: %d KiB%n", deb.getFileName(), Files.size(deb) / 1024);
    }

    /**
     * "The previous build": this build's files with a lower version, so that installing this build over it
     * is a real dpkg upgrade (prerm upgrade, new files unpacked, postinst configure OLD-VERSION).
     */
    Path previousBuild() throws Exception {
        Path work = Path.of("target/previous").toAbsolutePath();
        DebianRoot.host(List.of("rm", "-rf", work.toString()), 60).ok("rm");
        Files.createDirectories(work);
        Path tree = work.resolve("tree");
        DebianRoot.host(List.of("dpkg-deb", "-R", deb.toString(), tree.toString()), 120).ok("dpkg-deb -R");
        Path control = tree.resolve("DEBIAN/control");
        Files.writeString(control, Files.readString(control).replaceFirst("(?m)^Version: .*$", "Version: " + version + "~previous"));
        Path out = work.resolve("tandem_" + version + "~previous_all.deb");
        DebianRoot.host(List.of("dpkg-deb", "--root-owner-group", "-Zxz", "-z1", "-b", tree.toString(), out.toString()), 300).ok("dpkg-deb -b");
        return out;
    }

    @AfterAll
    void tearDown() throws Exception {
        for (DebianRoot r : roots.values()) r.close();
    }

    @Test
    @Order(0)
    void lintianFindsNoErrorsAndNoWarnings() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/lintian")) || "true".equals(System.getenv("CI")), "install lintian");
        var r = DebianRoot.host(List.of("lintian", "--fail-on", "error,warning", "--display-info", deb.toString()), 900);
        System.out.println("lintian " + deb.getFileName() + ":\n" + (r.out().isBlank() ? "(nothing)\n" : r.out()));
        assertThat(r.out().lines().filter(l -> l.startsWith("E: ") || l.startsWith("W: ")).toList()).as(r.out()).isEmpty();
        assertThat(r.exit()).as(r.out()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"trixie", "bookworm"})
    @Order(1)
    void installStartUpgradeRemovePurgeReinstall(String suite) throws Exception {
        long t0 = System.nanoTime();
        DebianRoot root = DebianRoot.fresh(suite, "node");
        roots.put(suite, root);
        int http = 18080 + PORT_BASE.get(suite), cluster = 17800 + PORT_BASE.get(suite);

        // install (the previous build first: the upgrade below goes to this build)
        install(root, previous);
        String jre = root.sh("dpkg-query -S \"$(readlink -f /usr/bin/java)\" | cut -d: -f1").ok("which package holds java").out().strip();
        System.out.printf("%s: java from %s%n", suite, jre);
        assertThat(jre).as("Java comes from Debian").startsWith("openjdk-");
        assertThat(root.sh("getent passwd tandem").ok("getent").out()).contains(":/var/lib/tandem:").contains("nologin");
        assertThat(stat(root, "/etc/tandem/cluster.key")).isEqualTo("root:tandem 640");
        assertThat(stat(root, "/etc/tandem/tandem.yaml")).isEqualTo("root:tandem 640");
        assertThat(stat(root, "/var/lib/tandem")).isEqualTo("tandem:tandem 750");
        assertThat(stat(root, "/var/cache/tandem")).isEqualTo("tandem:tandem 750");
        assertThat(Files.readString(root.path("/etc/tandem/cluster.key")).strip()).hasSizeGreaterThanOrEqualTo(40);
        byte[] key = Files.readAllBytes(root.path("/etc/tandem/cluster.key"));
        Path wants = root.path("/etc/systemd/system/multi-user.target.wants/tandem.service");
        assertThat(Files.isSymbolicLink(wants)).as("enabled at install (deb-systemd-helper)").isTrue();

        // the admin edits the conffile (ports of their own), deploys two sample workflows, starts the node
        root.sh("sed -i -e 's/127.0.0.1:8080/127.0.0.1:" + http + "/' -e 's/127.0.0.1:7800/127.0.0.1:" + cluster + "/g' /etc/tandem/tandem.yaml").ok("edit");
        deploySamples(root);
        Process node = startUnit(root, "tandem.service", null);
        String base = "http://127.0.0.1:" + http;
        awaitStatus(base + "/health/ready", 200, node);
        // ready means joined and loaded; the election of a group of one follows within a heartbeat or two
        awaitStatus(base + "/health/primary", 200, node);
        JsonObject hello = json(get(base + "/workflows/hello/"));
        assertThat(hello.getString("role")).isEqualTo("PRIMARY");
        assertThat(post(base + "/workflows/ipam/pools", "{\"name\": \"lan\", \"cidr\": \"10.9.0.0/24\"}").statusCode()).isEqualTo(201);
        var alloc = post(base + "/workflows/ipam/pools/lan/allocations", "{\"owner\": \"before-upgrade\"}");
        assertThat(alloc.statusCode()).as(alloc.body()).isEqualTo(201);
        String ip = new JsonObject(alloc.body()).getString("ip");
        assertThat(root.path("/var/cache/tandem/polyglot")).as("GraalPy's cache in the CacheDirectory").isDirectory();
        assertThat(root.path("/var/lib/tandem/.cache")).as("no cache in the user's home").doesNotExist();

        // the installed CLI: as root it works; as another user it says what is wrong
        var status = root.run(List.of("/usr/bin/tandem", "status"), 120);
        assertThat(status.exit()).as(status.out()).isZero();
        assertThat(status.out()).contains("node-a").contains("PRIMARY");
        root.sh("useradd --no-create-home alice").ok("useradd");
        var denied = root.runAs("alice", List.of("/usr/bin/tandem", "status"), 120);
        assertThat(denied.exit()).as(denied.out()).isEqualTo(1);
        assertThat(denied.out()).contains("permission denied").contains("/etc/tandem/tandem.yaml").contains("sudo tandem status");

        stop(node);

        // upgrade to this build: the edited conffile, the secret, the state and the permissions stay
        install(root, deb);
        assertThat(root.sh("dpkg-query -W -f='${Version}' tandem").out()).isEqualTo(version);
        assertThat(Files.readString(root.path("/etc/tandem/tandem.yaml"))).contains("127.0.0.1:" + http).doesNotContain("127.0.0.1:8080");
        assertThat(Files.readAllBytes(root.path("/etc/tandem/cluster.key"))).isEqualTo(key);
        assertThat(stat(root, "/etc/tandem/tandem.yaml")).isEqualTo("root:tandem 640");
        node = startUnit(root, "tandem.service", null);
        awaitStatus(base + "/health/primary", 200, node);
        assertThat(json(get(base + "/workflows/ipam/pools/lan/allocations")).encode()).contains(ip).contains("before-upgrade");
        stop(node);

        // remove keeps the configuration and the state; purge deletes them
        root.run(List.of("apt-get", "remove", "-y", "-q", "tandem"), 300).ok("apt-get remove");
        assertThat(root.path("/usr/bin/tandem")).doesNotExist();
        assertThat(root.path("/usr/share/tandem/lib")).doesNotExist();
        assertThat(root.path("/etc/tandem/tandem.yaml")).exists();
        assertThat(Files.readAllBytes(root.path("/etc/tandem/cluster.key"))).isEqualTo(key);
        assertThat(root.sh("ls /var/lib/tandem").out()).contains("admin.token");
        root.run(List.of("apt-get", "purge", "-y", "-q", "tandem"), 300).ok("apt-get purge");
        assertThat(root.path("/etc/tandem")).doesNotExist();
        assertThat(root.path("/var/lib/tandem")).doesNotExist();
        assertThat(root.path("/var/cache/tandem")).doesNotExist();
        assertThat(root.sh("dpkg-statoverride --list").out()).doesNotContain("tandem");
        assertThat(Files.exists(wants, LinkOption.NOFOLLOW_LINKS)).as("purge forgets the enablement").isFalse();

        // a reinstall after purge starts clean: a new secret, the default configuration, no state
        install(root, deb);
        assertThat(Files.readAllBytes(root.path("/etc/tandem/cluster.key"))).isNotEqualTo(key);
        assertThat(Files.readString(root.path("/etc/tandem/tandem.yaml"))).contains("127.0.0.1:8080");
        root.sh("sed -i -e 's/127.0.0.1:8080/127.0.0.1:" + http + "/' -e 's/127.0.0.1:7800/127.0.0.1:" + cluster + "/g' /etc/tandem/tandem.yaml").ok("edit");
        deploySamples(root);
        node = startUnit(root, "tandem.service", null);
        awaitStatus(base + "/health/primary", 200, node);
        assertThat(get(base + "/workflows/ipam/pools/lan/allocations").statusCode()).as("no pool after purge").isEqualTo(404);
        stop(node);
        System.out.printf("%s: install, upgrade, remove, purge, reinstall: %d s%n", suite, (System.nanoTime() - t0) / 1_000_000_000);
    }

    @Test
    @Order(2)
    void aTrixieAndABookwormInstallFormAGroup_aNodeWithAnotherKeyCannotJoin() throws Exception {
        DebianRoot a = roots.get("trixie"), b = roots.get("bookworm");
        Assumptions.assumeTrue(a != null && b != null, "needs both installs from the test before");
        // the same secret on both: copied from the first host, as the README says
        Files.write(b.path("/etc/tandem/cluster.key"), Files.readAllBytes(a.path("/etc/tandem/cluster.key")));
        b.sh("chown root:tandem /etc/tandem/cluster.key && chmod 0640 /etc/tandem/cluster.key").ok("chmod");
        String members = "[127.0.0.1:17810, 127.0.0.1:17811, 127.0.0.1:17812]";
        writeConfig(a, "/etc/tandem/tandem.yaml", "node-a", "data", 17810, members, 18090, "/var/lib/tandem", "/etc/tandem/cluster.key");
        writeConfig(b, "/etc/tandem/tandem.yaml", "node-b", "data", 17811, members, 18091, "/var/lib/tandem", "/etc/tandem/cluster.key");
        // the witness beside node-a, from its own file with the template unit
        writeConfig(a, "/etc/tandem/witness.yaml", "witness", "witness", 17812, members, 18092, "/var/lib/tandem/witness", "/etc/tandem/cluster.key");
        for (DebianRoot r : List.of(a, b)) {
            // each was a group of one since its install: the hosts start the pair with no state (README, Install)
            r.sh("find /var/lib/tandem -mindepth 1 -maxdepth 1 ! -name witness ! -name other -exec rm -rf {} +").ok("clean state");
            deploySamples(r);
        }
        Map<String, Process> nodes = new HashMap<>();
        nodes.put("node-a", startUnit(a, "tandem.service", null));
        nodes.put("node-b", startUnit(b, "tandem.service", null));
        nodes.put("witness", startUnit(a, "tandem@.service", "witness"));
        Map<String, String> url = Map.of("node-a", "http://127.0.0.1:18090", "node-b", "http://127.0.0.1:18091", "witness", "http://127.0.0.1:18092");
        String primary = awaitOne(() -> {
            for (String n : List.of("node-a", "node-b")) if (statusOf(url.get(n) + "/health/primary") == 200) return n;
            return null;
        });
        String secondary = primary.equals("node-a") ? "node-b" : "node-a";
        awaitStatus(url.get(secondary) + "/health/secondary", 200, nodes.get(secondary));
        assertThat(json(get(url.get(primary) + "/workflows/hello/")).getString("node")).isEqualTo(primary);

        // a third install with a secret of its own: it starts, but the group never takes it in
        b.sh("head -c 32 /dev/urandom | base64 > /etc/tandem/other.key && chown root:tandem /etc/tandem/other.key && chmod 0640 /etc/tandem/other.key").ok("key");
        writeConfig(b, "/etc/tandem/other.yaml", "node-c", "data", 17813, "[127.0.0.1:17810, 127.0.0.1:17811, 127.0.0.1:17813]", 18093,
                "/var/lib/tandem/other", "/etc/tandem/other.key");
        Process other = startUnit(b, "tandem@.service", "other");
        awaitStatus("http://127.0.0.1:18093/health/live", 200, other);
        String token = Files.readString(a.path("/var/lib/tandem/admin.token")).strip();
        // a negative claim needs a window: 3 s, three times the failure timeout, in which it could have joined
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < end) {
            String group = get(url.get(primary) + "/api/v1/group", token).body();
            assertThat(group).as("the group's view").doesNotContain("node-c");
            assertThat(other.isAlive()).as("node-c runs all along").isTrue();
            assertThat(statusOf("http://127.0.0.1:18093/health/primary")).as("node-c cannot be primary alone").isNotEqualTo(200);
            Thread.sleep(200); // sampling interval of the window, not synchronisation
        }
        assertThat(new JsonObject(get(url.get(primary) + "/api/v1/group", token).body()).getInteger("visible")).isEqualTo(3);
        String otherToken = Files.readString(b.path("/var/lib/tandem/other/admin.token")).strip();
        JsonObject seenByC = new JsonObject(get("http://127.0.0.1:18093/api/v1/group", otherToken).body());
        // it may still be trying to join (visible 0) or alone (1): either way it sees none of the group and no primary
        assertThat(seenByC.getInteger("visible")).as(seenByC.encode()).isLessThanOrEqualTo(1);
        assertThat(seenByC.getString("primary")).as("node-c knows no primary").isNull();
        assertThat(seenByC.getJsonArray("nodes").stream().map(JsonObject.class::cast)
                .filter(n -> "up".equals(n.getString("state")) && !"node-c".equals(n.getString("name"))).toList())
                .as("no member of the group is up for node-c").isEmpty();

        // kill -9 the primary's process: the other install takes over
        long kill = System.nanoTime();
        nodes.get(primary).destroyForcibly();
        awaitStatus(url.get(secondary) + "/health/primary", 200, nodes.get(secondary));
        System.out.printf("pair of a trixie and a bookworm install: kill -9 %s -> %s primary in %d ms%n", primary, secondary,
                (System.nanoTime() - kill) / 1_000_000);
        assertThat(json(get(url.get(secondary) + "/workflows/hello/")).getString("role")).isEqualTo("PRIMARY");
        for (Process p : List.of(nodes.get(secondary), nodes.get("witness"), other)) stop(p);
    }

    @Test
    @Order(3)
    void systemdAcceptsTheUnits() throws Exception {
        DebianRoot root = roots.get("trixie");
        Assumptions.assumeTrue(root != null, "needs the trixie install from the test before");
        // the root's own systemd (and man, which verify uses to check Documentation=)
        root.run(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "systemd", "man-db"), 600).ok("install systemd");
        var r = root.run(List.of("systemd-analyze", "verify", "/usr/lib/systemd/system/tandem.service",
                "/usr/lib/systemd/system/tandem@witness.service"), 120);
        System.out.println("systemd-analyze verify: " + (r.out().isBlank() ? "(nothing)" : r.out()));
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).as("no complaints").isBlank();
    }

    // ------------------------------------------------------------------ helpers

    void install(DebianRoot root, Path pkg) throws Exception {
        Path inside = root.path("/tmp/" + pkg.getFileName());
        Files.copy(pkg, inside, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        var r = root.run(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "/tmp/" + pkg.getFileName()), 900);
        r.ok("apt-get install " + pkg.getFileName() + " in " + root.suite);
    }

    static String stat(DebianRoot root, String path) throws Exception {
        return root.run(List.of("stat", "-c", "%U:%G %a", path), 30).ok("stat " + path).out().strip();
    }

    static void deploySamples(DebianRoot root) throws Exception {
        root.sh("install -d -o tandem -g tandem -m 0750 /var/lib/tandem/workflows"
                + " && cp -r /usr/share/tandem/sample-workflows/hello /usr/share/tandem/sample-workflows/ipam /var/lib/tandem/workflows/"
                + " && chown -R tandem:tandem /var/lib/tandem/workflows").ok("deploy samples");
    }

    static void writeConfig(DebianRoot root, String file, String name, String kind, int bind, String members, int http, String dataDir,
            String secret) throws Exception {
        String yaml = "node:\n  name: " + name + "\n  kind: " + kind + "\n  priority: 100\n  data_dir: " + dataDir + "\n"
                + "group:\n  bind: 127.0.0.1:" + bind + "\n  members: " + members + "\n  secret_file: " + secret + "\n"
                + "http:\n  bind: 127.0.0.1:" + http + "\n"
                + "workflows:\n  dir: /var/lib/tandem/workflows\n";
        Files.writeString(root.path(file), yaml);
        root.run(List.of("sh", "-ec", "chown root:tandem " + file + " && chmod 0640 " + file + " && install -d -o tandem -g tandem -m 0750 " + dataDir), 30)
                .ok("config " + file);
    }

    Process startUnit(DebianRoot root, String unit, String instance) throws Exception {
        UnitFile u = UnitFile.read(root.path("/usr/lib/systemd/system/" + unit));
        assertThat(u.get("User")).isEqualTo("tandem");
        String label = root.suite + "-" + (instance == null ? unit.replace(".service", "") : instance);
        Path log = logs.resolve(label + "-" + System.currentTimeMillis() + ".log");
        return root.start(u.command(root, instance), log);
    }

    /** SIGTERM, as systemctl stop sends: the node ends within its stop timeout with 143 (SuccessExitStatus) or 0. */
    static void stop(Process p) throws Exception {
        p.destroy();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the node stops on SIGTERM").isTrue();
        assertThat(p.exitValue()).isIn(0, 143);
    }

    static HttpResponse<String> get(String url) throws Exception {
        return get(url, null);
    }

    static HttpResponse<String> get(String url, String token) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String url, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject json(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new JsonObject(r.body());
    }

    static int statusOf(String url) {
        try {
            return get(url).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    /** Waits (a deadline, not a pause) until {@code url} answers {@code want}; fails at once if the node died. */
    void awaitStatus(String url, int want, Process node) throws Exception {
        long end = System.nanoTime() + SOON.toNanos();
        while (statusOf(url) != want) {
            if (!node.isAlive()) throw new AssertionError("the node ended (exit " + node.exitValue() + ") before " + url + " answered " + want
                    + "; its log:\n" + lastLog());
            if (System.nanoTime() > end) throw new AssertionError(url + " did not answer " + want + " within " + SOON + "; last log:\n" + lastLog());
            Thread.sleep(50); // polling interval
        }
    }

    static <T> T awaitOne(java.util.function.Supplier<T> s) throws Exception {
        long end = System.nanoTime() + SOON.toNanos();
        T v;
        while ((v = s.get()) == null) {
            if (System.nanoTime() > end) throw new AssertionError("no answer within " + SOON);
            Thread.sleep(50);
        }
        return v;
    }

    String lastLog() throws Exception {
        try (var files = Files.list(logs)) {
            List<Path> all = new ArrayList<>(files.toList());
            all.sort(java.util.Comparator.comparingLong(p -> p.toFile().lastModified()));
            if (all.isEmpty()) return "(none)";
            String s = Files.readString(all.get(all.size() - 1));
            return all.get(all.size() - 1).getFileName() + ":\n" + (s.length() > 6000 ? s.substring(s.length() - 6000) : s);
        }
    }
}
