package dev.tandem.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The admin token in {@code data_dir/admin.token} (mode 0600) that the CLI authenticates with. It is
 * derived from the group secret (HMAC-SHA256), so every node of a group has the same one: an admin
 * request a secondary forwards to the primary is accepted there. Whoever can read it could read the
 * secret file just as well; rotating the secret rotates it.
 */
public final class AdminToken {
    public static final String FILE = "admin.token";

    private AdminToken() {}

    /** Derives the group's admin token from {@code secretFile} and writes it to {@code dataDir} when it differs. */
    public static String ensure(Path dataDir, Path secretFile) throws IOException {
        String token;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Files.readAllBytes(secretFile), "HmacSHA256"));
            token = Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal("tandem admin token v1".getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
        Path file = dataDir.resolve(FILE);
        if (Files.isRegularFile(file) && Files.readString(file).strip().equals(token)) return token;
        Path tmp = dataDir.resolve(FILE + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, token + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return token;
    }
}
