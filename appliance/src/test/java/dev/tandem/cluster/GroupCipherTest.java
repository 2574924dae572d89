package dev.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.ConfigLoader;
import dev.tandem.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.protocols.SYM_ENCRYPT;
import org.jgroups.stack.Protocol;
import org.jgroups.util.Util;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the group's stack puts on the wire for a message: the real SYM_ENCRYPT of {@link ClusterChannel}, with the
 * protocol below it replaced by one that keeps what it is given. The same message sent twice must not encrypt
 * alike (JGroups' default, "AES", is ECB without an IV: equal plaintext blocks give equal ciphertext blocks,
 * so an eavesdropper sees which status or change repeats).
 */
class GroupCipherTest {
    @TempDir
    Path root;

    @Test
    void theSameMessageEncryptsDifferentlyEachTimeAndNeverInTheClear() throws Exception {
        int port = TestNode.freePort();
        var config = ConfigLoader.load(null, List.of("node.name=sender", "node.kind=witness", "node.data_dir=" + root.resolve("sender"),
                "group.bind=127.0.0.1:" + port, "group.members=[127.0.0.1:" + port + "]", "group.secret_file=" + TestNode.secret(root)));
        try (JChannel ch = ClusterChannel.create(config, false)) {
            SYM_ENCRYPT enc = ch.getProtocolStack().findProtocol(SYM_ENCRYPT.class);
            assertThat(enc.symAlgorithm()).isEqualTo("AES/CBC/PKCS5Padding");
            List<byte[]> wire = new ArrayList<>();
            enc.setDownProtocol(new Protocol() {
                @Override
                public Object down(Message msg) {
                    wire.add(msg.getArray() == null ? new byte[0]
                            : java.util.Arrays.copyOfRange(msg.getArray(), msg.getOffset(), msg.getOffset() + msg.getLength()));
                    return null;
                }
            });
            // two AES blocks of the same text, twice: ECB would repeat a block within a message and across the two
            byte[] text = "{\"type\": \"status\", \"name\": \"x\"}{\"type\": \"status\", \"name\": \"x\"}".getBytes(StandardCharsets.UTF_8);
            byte[] block = java.util.Arrays.copyOf(text, 32);
            byte[] plain = new byte[64];
            System.arraycopy(block, 0, plain, 0, 32);
            System.arraycopy(block, 0, plain, 32, 32);
            enc.down(new BytesMessage(Util.createRandomAddress("peer"), plain.clone()));
            enc.down(new BytesMessage(Util.createRandomAddress("peer"), plain.clone()));
            assertThat(wire).hasSize(2);
            assertThat(wire.get(0)).as("ciphertext").isNotEqualTo(wire.get(1)).isNotEqualTo(plain);
            for (byte[] w : wire) {
                assertThat(new String(w, StandardCharsets.ISO_8859_1)).doesNotContain("status");
                assertThat(java.util.Arrays.copyOfRange(w, 0, 32)).as("the second 32 bytes repeat the first in the clear")
                        .isNotEqualTo(java.util.Arrays.copyOfRange(w, 32, 64));
            }
        }
    }
}
