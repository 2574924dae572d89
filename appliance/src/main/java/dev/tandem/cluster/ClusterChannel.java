package dev.tandem.cluster;

import dev.tandem.config.TandemConfig;
import dev.tandem.core.TimingRules;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.spec.SecretKeySpec;
import org.jgroups.JChannel;
import org.jgroups.protocols.AUTH;
import org.jgroups.protocols.DISCARD;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.SYM_ENCRYPT;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.Protocol;

/**
 * The JGroups stack of SPEC section 3: TCP + TCPPING over {@code group.members} (no multicast),
 * failure detection from the configured timings, everything bound to {@code group.bind} only,
 * diagnostics off, and every message encrypted with a key derived from the group secret (a process
 * without the secret can neither read the group's traffic nor join it).
 */
public final class ClusterChannel {
    private ClusterChannel() {}

    /** The group's cipher (SYM_ENCRYPT's sym_algorithm); a build with another cannot talk to this one. */
    static final String CIPHER = "AES/CBC/PKCS5Padding";

    /** @param faults true to put a DISCARD protocol in the stack, for tests that cut the network in-process */
    public static JChannel create(TandemConfig config, boolean faults) throws Exception {
        LogLimiter.install();
        TandemConfig.Group g = config.group();
        long hb = g.heartbeatInterval().toMillis();
        InetAddress bind = InetAddress.getByName(g.bind().host());
        List<InetSocketAddress> members = new ArrayList<>();
        for (TandemConfig.Address a : g.members()) members.add(new InetSocketAddress(InetAddress.getByName(a.host()), a.port()));

        TCP tcp = new TCP();
        tcp.setBindAddress(bind);
        tcp.setBindPort(g.bind().port());
        tcp.setValue("port_range", 0);
        tcp.setValue("bundler_type", "no-bundler"); // control traffic is small; latency over batching
        tcp.tcpNodelay(true); // JGroups defaults to Nagle: every ack and vote would wait for the peer's delayed ACK
        tcp.disableDiagnostics();

        List<Protocol> stack = new ArrayList<>();
        stack.add(tcp);
        if (faults) stack.add(new DISCARD());
        stack.add(new TCPPING().setInitialHosts(members).setPortRange(0));
        stack.add(new MERGE3().setMinInterval(TimingRules.mergeMinInterval(g.heartbeatInterval()).toMillis())
                .setMaxInterval(TimingRules.mergeMaxInterval(g.heartbeatInterval()).toMillis()));
        stack.add(new FD_SOCK2().setBindAddress(bind).setPortRange(10));
        stack.add(new FD_ALL3().setInterval(hb).setTimeout(TimingRules.heartbeatTimeout(g.heartbeatInterval(), g.failureTimeout()).toMillis()));
        stack.add(new VERIFY_SUSPECT2().setTimeout(TimingRules.verifyTimeout(g.heartbeatInterval()).toMillis()));
        // JGroups' default cipher, "AES", is ECB without an IV: equal blocks encrypt alike, so repeats show on the
        // wire. CBC with a fresh random IV per message (sent in the header) does not. Both sides must agree on it.
        stack.add(new SYM_ENCRYPT().setSecretKey(groupKey(config)).symAlgorithm(CIPHER).symIvLength(16));
        stack.add(new NAKACK2());
        stack.add(new UNICAST3());
        stack.add(new STABLE());
        // a joiner proves it holds the group secret before it enters the view (AUTH sits right below GMS)
        stack.add(new AUTH().setAuthToken(new GroupToken(authKey(config))));
        GMS gms = new GMS().setJoinTimeout(Math.max(500, hb * 5));
        // GMS waits for every member's ack of a new view before it handles the next change (default 2 s): a member
        // frozen right after a merge view held the next view (the one without it) back by those 2 s
        gms.setValue("view_ack_collection_timeout", Math.max(500L, hb * 5));
        gms.setValue("print_local_addr", false);
        stack.add(gms);
        stack.add(new MFC());
        stack.add(new FRAG4());
        JChannel ch = new JChannel(stack);
        ch.setName(config.node().name());
        ch.setDiscardOwnMessages(true);
        return ch;
    }

    /** The key of the join proof ({@link GroupToken}): derived like the AES key, under another label, so the two differ. */
    static byte[] authKey(TandemConfig config) throws IOException {
        return derive(config, "tandem-auth:");
    }

    /** AES-256 key: SHA-256 over the group name and the secret file's content. */
    static SecretKeySpec groupKey(TandemConfig config) throws IOException {
        return new SecretKeySpec(derive(config, "tandem-group:"), "AES");
    }

    /** SHA-256 over {@code label}, the group name and the secret file's content (stripped). */
    private static byte[] derive(TandemConfig config, String label) throws IOException {
        byte[] secret = Files.readAllBytes(config.group().secretFile());
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((label + config.group().name() + ":").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update(new String(secret, java.nio.charset.StandardCharsets.UTF_8).strip().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
