package dev.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.ConfigLoader;
import dev.tandem.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that holds the secret (a buggy or older build) sends garbage and messages with fields of the
 * wrong type: each kind is dropped and logged once, and the group goes on as before.
 */
class MalformedMessageTest {
    @TempDir
    Path root;

    @Test
    void malformedGroupAndReplicationMessagesAreDroppedAndLoggedOnce() throws Exception {
        try (LocalGroup g = LocalGroup.start(root, "majority", "node-a:data", "node-b:data", "witness:witness")) {
            String primary = g.awaitPrimaryAndSecondary(Duration.ofSeconds(60));
            long term = g.group(primary).term();
            List<String> lines = new CopyOnWriteArrayList<>();
            Handler capture = new Handler() {
                @Override
                public void publish(LogRecord r) {
                    lines.add(r.getLoggerName() + " " + r.getLevel() + " " + r.getMessage());
                }

                @Override
                public void flush() {}

                @Override
                public void close() {}
            };
            // what is not JSON is dropped by the channel; a bad group message by the driver; a bad ack by replication
            Logger channelLog = Logger.getLogger(GroupChannel.class.getName()), groupLog = Logger.getLogger(GroupMember.class.getName()),
                    replLog = Logger.getLogger("dev.tandem.replication.Replication");
            channelLog.addHandler(capture);
            groupLog.addHandler(capture);
            replLog.addHandler(capture);
            int port = TestNode.freePort();
            String members = g.members.replace("]", ",127.0.0.1:" + port + "]");
            var config = ConfigLoader.load(null, List.of("node.name=prober", "node.kind=witness", "node.data_dir=" + root.resolve("prober"),
                    "group.bind=127.0.0.1:" + port, "group.members=" + members, "group.secret_file=" + TestNode.secret(root)));
            try (JChannel prober = ClusterChannel.create(config, false)) {
                prober.connect(config.group().name());
                dev.tandem.testing.Await.until("the prober sees the group", Duration.ofSeconds(60), () -> prober.getView().size() >= 4);
                Address target = prober.getView().getMembers().stream().filter(a -> primary.equals(org.jgroups.util.NameCache.get(a)))
                        .findFirst().orElseThrow();
                for (int i = 0; i < 50; i++) {
                    prober.send(new BytesMessage(target, ("{not json " + i).getBytes(StandardCharsets.UTF_8)));
                    prober.send(new BytesMessage(target, "{\"type\": \"status\", \"name\": \"x\", \"witness\": false, \"priority\": \"high\"}"
                            .getBytes(StandardCharsets.UTF_8)));
                    prober.send(new BytesMessage(target, "{\"type\": \"repl.ack\", \"from\": \"x\", \"lsn\": \"many\"}".getBytes(StandardCharsets.UTF_8)));
                    // a sender that is not a name: taken as nobody's (no follower), never a failure on JGroups' thread
                    prober.send(new BytesMessage(target, "{\"type\": \"repl.ack\", \"from\": 7, \"lsn\": 1}".getBytes(StandardCharsets.UTF_8)));
                }
                dev.tandem.testing.Await.until("the garbage arrived and was reported", Duration.ofSeconds(60),
                        () -> lines.stream().anyMatch(l -> l.contains("malformed")) && lines.stream().anyMatch(l -> l.contains("dropped a message from"))
                                && lines.stream().anyMatch(l -> l.contains("unexpected failure")));
                // a last well-formed round trip through the same path shows everything sent before it was handled
                assertThat(g.group(primary).mayAcknowledge()).isTrue();
            } finally {
                channelLog.removeHandler(capture);
                groupLog.removeHandler(capture);
                replLog.removeHandler(capture);
            }
            assertThat(lines.stream().filter(l -> l.contains("malformed")).count()).as("garbage: one line for 50 messages: " + lines).isEqualTo(1);
            // a group message is checked whole before anything acts on it: one line, naming the field, for 50
            assertThat(lines.stream().filter(l -> l.contains("GroupMember") && l.contains("dropped a message from")).toList())
                    .as("a status with a wrong field type: one line for 50").singleElement().asString()
                    .contains("status: field 'priority' is not a number");
            assertThat(lines.stream().filter(l -> l.contains("GroupMember") && l.contains("unexpected failure")).count()).isZero();
            assertThat(lines.stream().filter(l -> l.contains("Replication") && l.contains("unexpected failure")).count())
                    .as("an ack with a wrong field type: one line for 50").isEqualTo(1);
            assertThat(g.group(primary).term()).isEqualTo(term);
            assertThat(g.awaitPrimaryAndSecondary(Duration.ofSeconds(60))).isEqualTo(primary);
        }
    }
}
