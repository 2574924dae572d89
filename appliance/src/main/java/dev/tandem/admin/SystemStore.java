package dev.tandem.admin;

import dev.tandem.store.Store;
import dev.tandem.store.StoreTx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The group's own records, in the replicated store under namespace {@code _system} (no workflow can
 * name it: workflow names start with a letter), so they travel to the secondary like workflow state
 * and survive failover: users (name -> slow password hash), login tokens (SHA-256 of the token ->
 * user and expiry) and deployed workflows (an index of name -> sha256, and the zips apart, so that
 * checking what is deployed reads a few small rows). Writes happen on the primary; each returns the
 * LSN to wait for before answering (SPEC G1/G2: acknowledged once replicated).
 */
public final class SystemStore {
    public static final String NS = Store.SYSTEM_NS;
    static final String USERS = "users", TOKENS = "tokens", WORKFLOWS = "workflows", ZIPS = "workflow_zips";
    public static final Pattern USER = Pattern.compile("[a-z][a-z0-9_.-]{0,62}");
    public static final Duration TOKEN_LIFETIME = Duration.ofHours(12);
    private final Store store;

    public SystemStore(Store store) {
        this.store = store;
    }

    /** A login: the token to hand out (never stored) and the LSN that recorded it. */
    public record Login(String token, String user, long expiresAtMillis, long lsn) {}

    /** Creates or replaces user {@code name}; returns the LSN. */
    public long putUser(String name, String password) {
        if (!USER.matcher(name).matches()) {
            throw new IllegalArgumentException("user name '" + name + "': use 1-63 of a-z, 0-9, '_', '.', '-', starting with a letter");
        }
        if (password == null || password.length() < 8) {
            throw new IllegalArgumentException("the password must have at least 8 characters");
        }
        String hash = Passwords.hash(password);
        try (StoreTx tx = store.begin(NS)) {
            boolean existed = tx.get(USERS, name) != null;
            tx.put(USERS, name, new JsonObject().put("name", name).put("hash", hash)
                    .put(existed ? "changed" : "created", System.currentTimeMillis()).encode());
            return tx.commit();
        }
    }

    /** Removes the user and every token of theirs; returns the LSN, or 0 when there was no such user. */
    public long deleteUser(String name) {
        try (StoreTx tx = store.begin(NS)) {
            if (!tx.delete(USERS, name)) return 0;
            for (Object o : new JsonArray(tx.scan(TOKENS, "", 10_000))) {
                JsonArray kv = (JsonArray) o;
                if (name.equals(new JsonObject(kv.getString(1)).getString("user"))) tx.delete(TOKENS, kv.getString(0));
            }
            return tx.commit();
        }
    }

    public JsonArray users() {
        JsonArray out = new JsonArray();
        try (StoreTx tx = store.begin(NS)) {
            for (Object o : new JsonArray(tx.scan(USERS, "", 10_000))) {
                JsonObject u = new JsonObject(((JsonArray) o).getString(1));
                u.remove("hash");
                out.add(u);
            }
        }
        return out;
    }

    public boolean hasUsers() {
        try (StoreTx tx = store.begin(NS)) {
            return tx.count(USERS, "") > 0;
        }
    }

    /** Checks the password (slowly, by design) and records a new token; null when the user or password is wrong. */
    public Login login(String user, String password) {
        String stored;
        try (StoreTx tx = store.begin(NS)) {
            String u = tx.get(USERS, user == null ? "" : user);
            stored = u == null ? null : new JsonObject(u).getString("hash");
        }
        // a missing user costs the same time as a wrong password: no user enumeration by timing
        boolean ok = Passwords.verify(password, stored != null ? stored : DUMMY_HASH) && stored != null;
        if (!ok) return null;
        String token = Passwords.newToken();
        long now = System.currentTimeMillis(), expires = now + TOKEN_LIFETIME.toMillis();
        try (StoreTx tx = store.begin(NS)) {
            // expired tokens are cleared as new ones come in, so the table stays small
            for (Object o : new JsonArray(tx.scan(TOKENS, "", 10_000))) {
                JsonArray kv = (JsonArray) o;
                if (new JsonObject(kv.getString(1)).getLong("expires", 0L) < now) tx.delete(TOKENS, kv.getString(0));
            }
            tx.put(TOKENS, Passwords.tokenId(token), new JsonObject().put("user", user).put("created", now).put("expires", expires).encode());
            return new Login(token, user, expires, tx.commit());
        }
    }

    private static final String DUMMY_HASH = Passwords.hash("not a password of anyone");

    /** The user a token belongs to, or null (unknown, expired, or its user deleted). Local read: works on any node. */
    public String userOfToken(String token) {
        if (token == null || token.isEmpty()) return null;
        try (StoreTx tx = store.begin(NS)) {
            String t = tx.get(TOKENS, Passwords.tokenId(token));
            if (t == null) return null;
            JsonObject o = new JsonObject(t);
            if (o.getLong("expires", 0L) < System.currentTimeMillis()) return null;
            return tx.get(USERS, o.getString("user")) == null ? null : o.getString("user");
        }
    }

    /** Ends the session of {@code token}; returns the LSN, or 0 when there was none. */
    public long logout(String token) {
        try (StoreTx tx = store.begin(NS)) {
            return tx.delete(TOKENS, Passwords.tokenId(token)) ? tx.commit() : 0;
        }
    }

    /** A zip is stored base64 in parts of this many characters (a document holds at most 1,000,000). */
    static final int ZIP_PART = 512 * 1024;

    /** Records workflow {@code name} as deployed from {@code zip}; returns the LSN. */
    public long deploy(String name, byte[] zip, String by) {
        try (StoreTx tx = store.begin(NS)) {
            deleteZip(tx, name);
            String b64 = Base64.getEncoder().encodeToString(zip);
            int parts = Math.max(1, (b64.length() + ZIP_PART - 1) / ZIP_PART);
            for (int i = 0; i < parts; i++) {
                tx.put(ZIPS, name + "#" + i, new JsonObject().put("zip", b64.substring(i * ZIP_PART, Math.min(b64.length(), (i + 1) * ZIP_PART))).encode());
            }
            tx.put(ZIPS, name, new JsonObject().put("parts", parts).encode());
            tx.put(WORKFLOWS, name, new JsonObject().put("name", name).put("sha256", WorkflowBundle.sha256(zip)).put("bytes", zip.length)
                    .put("deployed_at", System.currentTimeMillis()).put("deployed_by", by).encode());
            return tx.commit();
        }
    }

    /** Removes a deployed workflow; returns the LSN, or 0 when it was not deployed. */
    public long undeploy(String name) {
        try (StoreTx tx = store.begin(NS)) {
            boolean had = tx.delete(WORKFLOWS, name);
            deleteZip(tx, name);
            return had ? tx.commit() : 0;
        }
    }

    /** Deployed workflows by name: {name, sha256, bytes, deployed_at, deployed_by}. */
    public Map<String, JsonObject> deployed() {
        Map<String, JsonObject> out = new LinkedHashMap<>();
        try (StoreTx tx = store.begin(NS)) {
            for (Object o : new JsonArray(tx.scan(WORKFLOWS, "", 10_000))) {
                JsonArray kv = (JsonArray) o;
                out.put(kv.getString(0), new JsonObject(kv.getString(1)));
            }
        }
        return out;
    }

    private static void deleteZip(StoreTx tx, String name) {
        String index = tx.get(ZIPS, name);
        if (index == null) return;
        int parts = new JsonObject(index).getInteger("parts", 0);
        for (int i = 0; i < parts; i++) tx.delete(ZIPS, name + "#" + i);
        tx.delete(ZIPS, name);
    }

    /** The zip of a deployed workflow, or null (also when a part of it is missing). */
    public byte[] zip(String name) {
        try (StoreTx tx = store.begin(NS)) {
            String z = tx.get(ZIPS, name);
            if (z == null) return null;
            JsonObject index = new JsonObject(z);
            if (index.containsKey("zip")) return Base64.getDecoder().decode(index.getString("zip")); // stored whole (before parts)
            StringBuilder b64 = new StringBuilder();
            for (int i = 0; i < index.getInteger("parts", 0); i++) {
                String part = tx.get(ZIPS, name + "#" + i);
                if (part == null) return null;
                b64.append(new JsonObject(part).getString("zip"));
            }
            return Base64.getDecoder().decode(b64.toString());
        }
    }
}
