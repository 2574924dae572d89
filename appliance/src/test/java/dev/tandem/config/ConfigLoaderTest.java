package dev.tandem.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
    @TempDir
    Path dir;
    Path secret;

    @BeforeEach
    void secret() throws Exception {
        secret = TestNode.secret(dir);
    }

    private Path yaml(String body) throws Exception {
        Path f = dir.resolve("tandem.yaml");
        Files.writeString(f, body.replace("SECRET", secret.toString()));
        return f;
    }

    @Test
    void theSpecExampleIsValidAndFullyResolved() throws Exception {
        Path f = yaml("""
                node:
                  name: node-a
                  kind: data
                  priority: 100
                  data_dir: /var/lib/tandem
                group:
                  name: default
                  bind: 127.0.0.1:7800
                  members: [127.0.0.1:7800, 127.0.0.1:7801, 127.0.0.1:7802]
                  secret_file: SECRET
                  quorum: majority
                  preempt: false
                  heartbeat_interval: 100ms
                  failure_timeout: 1s
                replication:
                  mode: sync
                  sync_timeout: 2s
                  strict: false
                  fsync: false
                http:
                  bind: 0.0.0.0:8080
                  tls: {cert: null, key: null}
                  forward_to_primary: true
                workflows:
                  dir: /var/lib/tandem/workflows
                  hook_timeout: 10s
                """);
        TandemConfig c = ConfigLoader.load(f, List.of());
        assertThat(c.node().name()).isEqualTo("node-a");
        assertThat(c.group().members()).hasSize(3);
        assertThat(c.group().failureTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.group().heartbeatInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(c.replication().mode()).isEqualTo(TandemConfig.ReplicationMode.SYNC);
        assertThat(c.http().bodyLimit()).isEqualTo(1 << 20);
        assertThat(c.workflows().hookTimeout()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void setOverridesTheFileAndAcceptsLists() throws Exception {
        Path f = yaml("node:\n  priority: 10\ngroup:\n  secret_file: SECRET\n");
        TandemConfig c = ConfigLoader.load(f, List.of("node.priority=50", "group.members=[127.0.0.1:7800, 127.0.0.1:7801]",
                "group.failure_timeout=2s"));
        assertThat(c.node().priority()).isEqualTo(50);
        assertThat(c.group().members()).extracting(Object::toString).containsExactly("127.0.0.1:7800", "127.0.0.1:7801");
        var sources = ConfigLoader.resolve(f, List.of("node.priority=50")).sources();
        assertThat(sources.get("node.priority")).isEqualTo("--set");
        assertThat(sources.get("group.secret_file")).endsWith("tandem.yaml:4");
        assertThat(sources.get("node.kind")).isEqualTo("default");
    }

    @Test
    void commandsAreAnOpenMappingOfArgumentVectors_fromTheFileOrSet() throws Exception {
        Path f = yaml("group:\n  secret_file: SECRET\nworkflows:\n  commands:\n    vip_claim: [/bin/sh, -c, 'echo claim']\n");
        TandemConfig c = ConfigLoader.load(f, List.of("workflows.commands.vip_release=[/bin/true, x]"));
        assertThat(c.workflows().commands()).containsOnlyKeys("vip_claim", "vip_release");
        assertThat(c.workflows().commands().get("vip_claim")).containsExactly("/bin/sh", "-c", "echo claim");
        assertThat(c.workflows().commands().get("vip_release")).containsExactly("/bin/true", "x");
        assertThat(ConfigLoader.load(yaml("group:\n  secret_file: SECRET\n"), List.of()).workflows().commands()).isEmpty();
    }

    @Test
    void workflowsDirDefaultsUnderDataDir() throws Exception {
        TandemConfig c = ConfigLoader.load(yaml("node:\n  data_dir: /srv/t\ngroup:\n  secret_file: SECRET\n"), List.of());
        assertThat(c.workflows().dir()).isEqualTo(Path.of("/srv/t/workflows"));
    }

    /** One row per rule of SPEC section 3: the YAML, and what the error must say (key, line, the fix). */
    static Stream<Arguments> badConfigurations() {
        String ok = "group:\n  secret_file: SECRET\n";
        return Stream.of(
                Arguments.of("unknown key", ok + "node:\n  nmae: a\n", List.of("tandem.yaml:4", "node.nmae", "unknown key")),
                Arguments.of("unknown section", ok + "nodes:\n  name: a\n", List.of("tandem.yaml:3", "nodes", "unknown key")),
                Arguments.of("bad node name", ok + "node:\n  name: Node_A\n", List.of("tandem.yaml:4", "node.name", "a-z, 0-9 and '-'")),
                Arguments.of("name too long", ok + "node:\n  name: " + "a".repeat(64) + "\n", List.of("node.name", "1 to 63")),
                Arguments.of("bad group name", ok.replace("group:\n", "group:\n  name: 'my group'\n"), List.of("tandem.yaml:2", "group.name")),
                Arguments.of("bad kind", ok + "node:\n  kind: arbiter\n", List.of("node.kind", "data | witness")),
                Arguments.of("priority range", ok + "node:\n  priority: 256\n", List.of("node.priority", "0..255")),
                Arguments.of("priority not a number", ok + "node:\n  priority: high\n", List.of("node.priority", "not a whole number")),
                Arguments.of("bad duration", ok.replace("group:\n", "group:\n  heartbeat_interval: 100\n"),
                        List.of("tandem.yaml:2", "group.heartbeat_interval", "250ms or 2s")),
                Arguments.of("bad duration unit", ok.replace("group:\n", "group:\n  failure_timeout: 1h\n"), List.of("group.failure_timeout", "not a duration")),
                Arguments.of("bind not in members", ok.replace("group:\n", "group:\n  bind: 127.0.0.1:7805\n  members: [127.0.0.1:7800]\n"),
                        List.of("tandem.yaml:2", "group.bind", "not in group.members")),
                Arguments.of("bad address", ok.replace("group:\n", "group:\n  bind: localhost\n"), List.of("group.bind", "host:port")),
                Arguments.of("duplicate member", ok.replace("group:\n", "group:\n  members: [127.0.0.1:7800, 127.0.0.1:7800]\n"),
                        List.of("group.members", "listed twice")),
                Arguments.of("failure_timeout < 3 x heartbeat", ok.replace("group:\n", "group:\n  heartbeat_interval: 500ms\n  failure_timeout: 1s\n"),
                        List.of("tandem.yaml:3", "group.failure_timeout", "at least 1500ms")),
                Arguments.of("sync_timeout < failure_timeout", ok + "replication:\n  sync_timeout: 500ms\n",
                        List.of("tandem.yaml:4", "replication.sync_timeout", "at least 1s")),
                Arguments.of("bad quorum", ok.replace("group:\n", "group:\n  quorum: most\n"), List.of("group.quorum", "majority | none")),
                Arguments.of("bad mode", ok + "replication:\n  mode: semi\n", List.of("replication.mode", "sync | async")),
                Arguments.of("bad boolean", ok.replace("group:\n", "group:\n  preempt: yes please\n"), List.of("group.preempt", "true or false")),
                Arguments.of("missing secret file", "group:\n  secret_file: /nonexistent/cluster.key\n",
                        List.of("tandem.yaml:2", "group.secret_file", "does not exist", "chmod 600")),
                Arguments.of("tls cert without key", ok + "http:\n  tls: {cert: SECRET}\n", List.of("http.tls", "both cert and key")),
                Arguments.of("body limit too small", ok + "http:\n  body_limit: 10\n", List.of("http.body_limit", "1KiB..256MiB")),
                Arguments.of("not YAML", "node: [unclosed\n", List.of("tandem.yaml:2", "not valid YAML")),
                Arguments.of("duplicate key", ok + "node:\n  name: a\n  name: b\n", List.of("not valid YAML", "duplicate")),
                Arguments.of("top level not a mapping", "- a\n- b\n", List.of("tandem.yaml:1", "mapping of sections")),
                Arguments.of("command not a list", ok + "workflows:\n  commands:\n    vip_claim: /usr/sbin/ip addr add\n",
                        List.of("tandem.yaml:5", "workflows.commands.vip_claim", "expected a list")),
                Arguments.of("command with a relative program", ok + "workflows:\n  commands:\n    vip_claim: [ip, addr]\n",
                        List.of("tandem.yaml:5", "workflows.commands.vip_claim", "absolute path")),
                Arguments.of("command program missing", ok + "workflows:\n  commands:\n    vip_claim: [/nonexistent/ip]\n",
                        List.of("workflows.commands.vip_claim", "not an executable file")),
                Arguments.of("bad command name", ok + "workflows:\n  commands:\n    'Vip Claim': [/bin/true]\n",
                        List.of("tandem.yaml:5", "not a valid command name")),
                Arguments.of("commands not a mapping", ok + "workflows:\n  commands: [/bin/true]\n",
                        List.of("tandem.yaml:4", "workflows.commands", "mapping of command names")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigurations")
    void everyRuleNamesTheKeyTheLineAndTheFix(String rule, String body, List<String> expected) throws Exception {
        Path f = yaml(body);
        assertThatThrownBy(() -> ConfigLoader.load(f, List.of()))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> expected.forEach(s -> assertThat(e.getMessage()).contains(s)));
    }

    @Test
    void aWorldReadableSecretIsRefused() throws Exception {
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> ConfigLoader.load(yaml("group:\n  secret_file: SECRET\n"), List.of()))
                .hasMessageContaining("group.secret_file").hasMessageContaining("world-readable").hasMessageContaining("chmod 600");
    }

    @Test
    void badOverridesAreNamed() throws Exception {
        Path f = yaml("group:\n  secret_file: SECRET\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, List.of("node.colour=red"))).hasMessageContaining("--set node.colour: unknown key");
        assertThatThrownBy(() -> ConfigLoader.load(f, List.of("nodepriority"))).hasMessageContaining("key.path=value");
        assertThatThrownBy(() -> ConfigLoader.load(f, List.of("node.priority=-1"))).hasMessageContaining("--set: node.priority");
    }

    @Test
    void everyProblemIsReportedAtOnce() throws Exception {
        Path f = yaml("group:\n  secret_file: SECRET\nnode:\n  name: BAD\n  priority: 999\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, List.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).hasSize(2));
    }

    @Test
    void aMissingFileIsNamed() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), List.of()))
                .hasMessageContaining("nope.yaml").hasMessageContaining("no such configuration file");
    }

    @Test
    void hostileFilesAreRefusedWithTheirLine() throws Exception {
        // a billion-laughs style alias bomb
        StringBuilder bomb = new StringBuilder("group:\n  secret_file: SECRET\na: &a [x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            char p = (char) (c - 1);
            bomb.append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p).append(", *").append(p).append("]\n");
        }
        assertThatThrownBy(() -> ConfigLoader.load(yaml(bomb.toString()), List.of()))
                .hasMessageContaining("tandem.yaml:4:").hasMessageContaining("aliases");
        Path f = dir.resolve("latin1.yaml");
        Files.write(f, "group:\n  secret_file: /x\nnode:\n  name: caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> ConfigLoader.load(f, List.of())).hasMessageContaining("latin1.yaml:4:").hasMessageContaining("not UTF-8");
        Path asDir = Files.createDirectories(dir.resolve("keydir"));
        assertThatThrownBy(() -> ConfigLoader.load(yaml("group:\n  secret_file: " + asDir + "\n"), List.of()))
                .hasMessageContaining("is a directory");
        assertThatThrownBy(() -> ConfigLoader.load(dir, List.of())).hasMessageContaining("is a directory");
    }

    @Test
    void tlsFilesAreChecked() throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), "not a certificate"), key = Files.writeString(dir.resolve("k.pem"), "nope");
        assertThatThrownBy(() -> ConfigLoader.load(yaml("group:\n  secret_file: SECRET\nhttp:\n  tls: {cert: " + cert + ", key: " + key + "}\n"), List.of()))
                .hasMessageContaining("http.tls.cert");
    }
}
