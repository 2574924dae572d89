package dev.tandem.cluster;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jgroups.Message;
import org.jgroups.auth.AuthToken;

/**
 * JGroups {@code AUTH} token for the group secret: a process must prove it holds the secret before it
 * may join or merge (SYM_ENCRYPT already refuses whatever it sends; this keeps it out of the view, so
 * it can never count as a member). The proof is an HMAC-SHA256, keyed by a key derived from the secret
 * and the group name, over the time it was made; AUTH's headers travel unencrypted, so a captured
 * proof is good for {@link #WINDOW_MS} only, and even then whoever replays it cannot read or send any
 * group message (those are encrypted with the secret).
 */
public final class GroupToken extends AuthToken {
    /** How old (or how far ahead, for clock skew between nodes) a proof may be. */
    static final long WINDOW_MS = 10 * 60_000;
    private static final int MAC_BYTES = 32;

    private final byte[] key; // null on the instances JGroups reads from the wire
    private long issuedAt;
    private byte[] mac = new byte[0];

    /** For JGroups, which creates the token a peer sent by reflection and then reads it. */
    public GroupToken() {
        this.key = null;
    }

    GroupToken(byte[] key) {
        this.key = key.clone();
    }

    @Override
    public String getName() {
        return "tandem-group-secret";
    }

    @Override
    public int size() {
        return Long.BYTES + Short.BYTES + MAC_BYTES;
    }

    @Override
    public void writeTo(DataOutput out) throws IOException {
        long now = System.currentTimeMillis();
        byte[] m = key == null ? new byte[0] : mac(key, now);
        out.writeLong(now);
        out.writeShort(m.length);
        out.write(m);
    }

    @Override
    public void readFrom(DataInput in) throws IOException {
        issuedAt = in.readLong();
        int n = in.readUnsignedShort();
        if (n > 64) throw new IOException("a group token of " + n + " bytes: not a tandem token");
        mac = new byte[n];
        in.readFully(mac);
    }

    @Override
    public boolean authenticate(AuthToken token, Message msg) {
        if (key == null || !(token instanceof GroupToken t)) return false;
        if (t == this) return true; // a message to ourselves (a merge leader asking itself) is not serialized: our own instance
        if (t.mac.length != MAC_BYTES) return false;
        if (Math.abs(System.currentTimeMillis() - t.issuedAt) > WINDOW_MS) {
            log.warn("refused a join from %s: its proof of the group secret is older than %d min, or its clock is off by more; "
                    + "keep the nodes' clocks in sync (NTP)", msg.getSrc(), WINDOW_MS / 60_000);
            return false;
        }
        return MessageDigest.isEqual(mac(key, t.issuedAt), t.mac);
    }

    private static byte[] mac(byte[] key, long issuedAt) {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(key, "HmacSHA256"));
            hmac.update("tandem-join-v1".getBytes(StandardCharsets.UTF_8));
            hmac.update(ByteBuffer.allocate(Long.BYTES).putLong(issuedAt).array());
            return hmac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }
}
