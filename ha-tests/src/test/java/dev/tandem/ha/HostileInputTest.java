package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * An attacker's and a careless operator's requests against a real group (pair + witness, real
 * processes): the node is no open proxy, the admin API trusts no address, a bad deploy never poisons
 * the group, workflow code is bounded, and every request gets a JSON answer within a bound.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    @TempDir
    static Path root;
    static ProcessGroup group;
    static NodeProcess primary, secondary;

    @BeforeAll
    static void startGroup() throws Exception {
        group = ProcessGroup.start(root, NodeProcess.home().resolve("sample-workflows"),
                name -> ", request_timeout: 2s, load_timeout: 15s", name -> ", client_timeout: 3s");
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        primary = pair.primary();
        secondary = pair.secondary();
        ProcessGroup.awaitInSync(secondary, SOON);
    }

    @AfterAll
    static void stopGroup() {
        if (group != null) group.close();
    }

    // ---- item 1: the forwarder is no open proxy ----

    @Test
    @Order(1)
    void aSecondaryNeverSendsARequestAnywhereButToThePrimary() throws Exception {
        try (ServerSocket trap = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            AtomicInteger reached = new AtomicInteger();
            Thread t = new Thread(() -> {
                while (!trap.isClosed()) {
                    try (Socket s = trap.accept()) {
                        reached.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            int port = trap.getLocalPort();
            String body = "{\"owner\": \"a\"}";
            for (String target : List.of(
                    "@127.0.0.1:" + port + "/anything?://x/workflows/ipam/pools/p/allocations",
                    "@127.0.0.1:" + port + "/anything?://x/api/v1/login",
                    "http://127.0.0.1:" + port + "/workflows/ipam/pools/p/allocations",
                    "127.0.0.1:" + port,
                    "*")) {
                Raw r = raw(secondary, "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Authorization: Bearer a-client-secret\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
                assertThat(r.status).as(target).isEqualTo(400);
                assertThat(r.json().getString("code")).as(target).isEqualTo("bad_request");
            }
            // a path that looks like an authority stays a path on the primary
            Raw r = raw(secondary, "POST /@127.0.0.1:" + port + "/../workflows/ipam/pools/p/allocations HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            assertThat(r.status).isBetween(400, 599);
            assertThat(r.json().getInteger("status")).isEqualTo(r.status);
            // and a real write through the secondary still reaches the primary
            var pool = ProcessGroup.post(primary, "/workflows/ipam/pools", "{\"name\": \"hostile\", \"cidr\": \"10.66.0.0/24\"}", SOON);
            assertThat(pool.statusCode()).as(pool.body()).isEqualTo(201);
            ProcessGroup.awaitInSync(secondary, SOON);
            var forwarded = ProcessGroup.post(secondary, "/workflows/ipam/pools/hostile/allocations", body, SOON);
            assertThat(forwarded.statusCode()).as(forwarded.body()).isEqualTo(201);
            assertThat(forwarded.headers().firstValue("X-Tandem-Forwarded-By")).contains(secondary.name);
            assertThat(reached.get()).as("connections that reached the trap").isZero();
        }
    }

    // ---- item 2: no address is trusted ----

    @Test
    @Order(2)
    void theAdminApiNeedsATokenFromLoopbackToo() throws Exception {
        for (NodeProcess n : group.nodes.values()) {
            assertThat(anonymous(n, "GET", "/api/v1/group", null, Map.of()).statusCode()).as(n.name).isEqualTo(401);
            for (String[] call : List.of(new String[] {"/api/v1/maintenance", "{\"enabled\": true}"},
                    new String[] {"/api/v1/switchover", "{}"}, new String[] {"/api/v1/users", "{\"user\": \"admin\", \"password\": \"hijacked!\"}"},
                    new String[] {"/api/v1/workflows?name=evil", ""})) {
                assertThat(anonymous(n, "POST", call[0], call[1], Map.of()).statusCode()).as(n.name + " " + call[0]).isEqualTo(401);
                assertThat(anonymous(n, "POST", call[0], call[1], Map.of("X-Tandem-Forwarded-By", "node-a")).statusCode())
                        .as("a forwarded request carries no extra trust").isEqualTo(401);
                assertThat(anonymous(n, "POST", call[0], call[1], Map.of("Authorization", "Bearer forged")).statusCode()).isEqualTo(401);
            }
        }
        for (NodeProcess n : group.nodes.values()) {
            assertThat(ProcessGroup.getJson(n, "/api/v1/node").getBoolean("maintenance")).as(n.name).isFalse();
        }
    }

    // ---- item 7 and audit: logins are rate limited and recorded ----

    @Test
    @Order(3)
    void repeatedWrongPasswordsAreSlowedDownAndEveryAttemptIsAudited() throws Exception {
        assertThat(ProcessGroup.post(primary, "/api/v1/users", "{\"user\": \"ops\", \"password\": \"right-password-1\"}", SOON).statusCode())
                .isEqualTo(201);
        int refused = 0;
        boolean throttled = false;
        String retryAfter = null;
        for (int i = 0; i < 40 && !(throttled && refused >= 7); i++) {
            HttpResponse<String> r = anonymous(primary, "POST", "/api/v1/login", "{\"user\": \"ops\", \"password\": \"wrong-guess-" + i + "\"}", Map.of());
            if (r.statusCode() == 401) refused++;
            else if (r.statusCode() == 429) {
                throttled = true;
                retryAfter = r.headers().firstValue("Retry-After").orElse(null);
                assertThat(new JsonObject(r.body()).getString("code")).isEqualTo("too_many_requests");
            } else throw new AssertionError("unexpected answer " + r.statusCode() + " " + r.body());
        }
        assertThat(throttled).as("wrong passwords in a row end in 429").isTrue();
        assertThat(retryAfter).isNotNull();
        assertThat(Integer.parseInt(retryAfter)).isPositive();
        HttpResponse<String> right = anonymous(primary, "POST", "/api/v1/login", "{\"user\": \"ops\", \"password\": \"right-password-1\"}", Map.of());
        assertThat(right.statusCode()).as("while the wait lasts, the right password waits too").isEqualTo(429);
        until("the right password works again after the wait", SOON, () -> {
            try {
                return anonymous(primary, "POST", "/api/v1/login", "{\"user\": \"ops\", \"password\": \"right-password-1\"}", Map.of())
                        .statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
        String events = ProcessGroup.getJson(primary, "/api/v1/events?limit=1000").encode();
        assertThat(events).doesNotContain("wrong-guess").doesNotContain("right-password-1");
        List<JsonObject> audit = new ArrayList<>();
        ProcessGroup.getJson(primary, "/api/v1/events?limit=1000").getJsonArray("events").forEach(o -> {
            JsonObject e = (JsonObject) o;
            if (e.getString("type").equals("AUDIT")) audit.add(e.getJsonObject("data"));
        });
        assertThat(audit).anySatisfy(e -> assertThat(e.getString("action")).isEqualTo("login"))
                .anySatisfy(e -> {
                    assertThat(e.getString("outcome")).isEqualTo("denied");
                    assertThat(e.getString("target")).isEqualTo("ops");
                    assertThat(e.getString("from")).isEqualTo("127.0.0.1");
                })
                .anySatisfy(e -> assertThat(e.getString("outcome")).isEqualTo("throttled"))
                .anySatisfy(e -> {
                    assertThat(e.getString("action")).isEqualTo("user.set");
                    assertThat(e.getString("user")).isEqualTo("admin-token");
                });
    }

    // ---- item 3: one bad deploy never poisons the group ----

    @Test
    @Order(4)
    void aBadBundleIsRefusedBeforeItIsCommitted_andTheGroupKeepsDeployingAndStarting() throws Exception {
        Map<String, byte[]> nul = new LinkedHashMap<>();
        nul.put("workflow.py", "x = 1".getBytes());
        nul.put("lib/a\u0000b.py", "y = 2".getBytes());
        HttpResponse<String> r = deploy(primary, "nul", zip(nul));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(new JsonObject(r.body()).getString("message")).contains("control character");
        Map<String, byte[]> clash = new LinkedHashMap<>();
        clash.put("workflow.py", "x = 1".getBytes());
        clash.put("workflow.py/inner.txt", "y".getBytes());
        r = deploy(primary, "clash", zip(clash));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(new JsonObject(r.body()).getString("message")).contains("both as a file and as a folder");

        // a valid zip of 800 KB (incompressible), under the 1 MiB body limit, deploys and reaches the secondary
        byte[] noise = new byte[800 * 1024];
        new java.util.Random(7).nextBytes(noise);
        Map<String, byte[]> big = new LinkedHashMap<>();
        big.put("workflow.py", "from tandem import route\n\n@route('GET', '/')\ndef hi(request):\n    return {'big': True}\n".getBytes());
        big.put("data.bin", noise);
        byte[] bigZip = zip(big);
        assertThat(bigZip.length).isGreaterThan(800 * 1024).isLessThan(1 << 20);
        r = deploy(primary, "big", bigZip);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(new JsonObject(r.body()).getString("state")).isEqualTo("loaded");
        until("the big workflow serves on the secondary", SOON, () -> loaded(secondary, "big"));

        // later deploys and removals work, and a restarted data node starts
        assertThat(delete(primary, "/api/v1/workflows/big").statusCode()).isEqualTo(204);
        r = deploy(primary, "good", zip(Map.of("workflow.py", "from tandem import route\n\n@route('GET', '/')\ndef hi(request):\n    return {}\n".getBytes())));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        restart(secondary);
        until("the restarted secondary serves the good workflow", SOON, () -> loaded(secondary, "good"));
        assertThat(delete(primary, "/api/v1/workflows/good").statusCode()).isEqualTo(204);
    }

    // ---- item 4: workflow code is bounded ----

    static final String SPIN = """
            from tandem import route

            @route('GET', '/spin')
            def spin(request):
                while True:
                    pass

            @route('GET', '/ok')
            def ok(request):
                return {'ok': True}
            """;

    @Test
    @Order(5)
    void aRouteThatNeverEndsIsStoppedAndEveryQueuedRequestIsAnswered() throws Exception {
        HttpResponse<String> d = deploy(primary, "spin", zip(Map.of("workflow.py", SPIN.getBytes())));
        assertThat(d.statusCode()).as(d.body()).isEqualTo(201);
        long t0 = System.nanoTime();
        CompletableFuture<HttpResponse<String>> spinning = getAsync(primary, "/workflows/spin/spin");
        CompletableFuture<HttpResponse<String>> queued = getAsync(primary, "/workflows/spin/ok");
        HttpResponse<String> a = spinning.get(30, TimeUnit.SECONDS), b = queued.get(30, TimeUnit.SECONDS);
        assertThat(a.statusCode()).as(a.body()).isEqualTo(503);
        assertThat(new JsonObject(a.body()).getString("code")).isEqualTo("timeout");
        assertThat(new JsonObject(a.body()).getString("message")).contains("request_timeout");
        assertThat(b.statusCode()).as("the request queued behind it is answered too: " + b.body()).isIn(200, 503);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("answered within a generous bound of request_timeout (2 s)").isLessThan(25_000);
        until("the workflow serves again once the runaway route is stopped", SOON, () -> get(primary, "/workflows/spin/ok").statusCode() == 200);

        // requests still queued when the workflow is replaced get an answer
        CompletableFuture<HttpResponse<String>> again = getAsync(primary, "/workflows/spin/spin");
        CompletableFuture<HttpResponse<String>> behind = getAsync(primary, "/workflows/spin/ok");
        assertThat(deploy(primary, "spin", zip(Map.of("workflow.py", (SPIN + "\n# v2\n").getBytes()))).statusCode()).isEqualTo(201);
        assertThat(again.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(503);
        assertThat(behind.get(30, TimeUnit.SECONDS).statusCode()).isIn(200, 503);
        assertThat(delete(primary, "/api/v1/workflows/spin").statusCode()).isEqualTo(204);
    }

    @Test
    @Order(6)
    void aWorkflowThatNeverFinishesLoadingIsMarkedFailed_andNeverBlocksDeploysStartOrStop() throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> d = deploy(primary, "slowload", zip(Map.of("workflow.py", "import time\ntime.sleep(10**6)\n".getBytes())));
        assertThat((System.nanoTime() - t0) / 1_000_000).as("the deploy answers").isLessThan(60_000);
        assertThat(d.statusCode()).as(d.body()).isEqualTo(201);
        assertThat(new JsonObject(d.body()).getString("state")).isEqualTo("failed");
        assertThat(new JsonObject(d.body()).getString("error")).contains("load_timeout");
        // other deploys and removals go on
        assertThat(deploy(primary, "other", zip(Map.of("workflow.py", "x = 1\n".getBytes()))).statusCode()).isEqualTo(201);
        assertThat(delete(primary, "/api/v1/workflows/other").statusCode()).isEqualTo(204);
        until("the secondary has it too, as failed", SOON, () -> state(secondary, "slowload").equals("failed"));
        // a data node restarted while it is deployed starts and joins; SIGTERM stops it within the stop limit
        restart(secondary);
        long stopMs = secondary.terminate(Duration.ofSeconds(30));
        assertThat(stopMs).as("SIGTERM stops the node (ms)").isBetween(0L, 20_000L);
        secondary.start();
        secondary.awaitStatus200("/health/ready", Duration.ofSeconds(120));
        ProcessGroup.awaitInSync(secondary, SOON);
        assertThat(delete(primary, "/api/v1/workflows/slowload").statusCode()).isEqualTo(204);
    }

    // ---- item 9: the smaller ones ----

    @Test
    @Order(7)
    void everyRefusalIsJson_andStalledClientsAreCut() throws Exception {
        Raw longLine = raw(primary, "GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(longLine.status).isEqualTo(414);
        assertThat(longLine.json().getString("code")).isEqualTo("uri_too_long");
        Raw bigHeaders = raw(primary, "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(10_000) + "\r\n\r\n");
        assertThat(bigHeaders.status).isEqualTo(431);
        assertThat(bigHeaders.json().getString("message")).contains("headers");
        String form = "a=1&".repeat(100_000);
        HttpResponse<String> fields = HTTP.send(HttpRequest.newBuilder(URI.create(primary.url() + "/api/v1/login"))
                .header("content-type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
                .timeout(SOON).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(fields.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(fields.body()).getString("message")).doesNotContain("null");
        HttpResponse<String> plain = HTTP.send(HttpRequest.newBuilder(URI.create(primary.url() + "/api/v1/maintenance"))
                .header("content-type", "text/plain").header("Authorization", "Bearer " + primary.adminToken())
                .POST(HttpRequest.BodyPublishers.ofString("{\"enabled\": true}")).timeout(SOON).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(plain.statusCode()).as(plain.body()).isEqualTo(400);
        assertThat(ProcessGroup.getJson(primary, "/api/v1/node").getBoolean("maintenance")).isFalse();

        // slowloris: five connections trickling a header byte at a time are closed after client_timeout (3 s)
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                Socket s = new Socket("127.0.0.1", primary.httpPort);
                s.setSoTimeout(250);
                s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                sockets.add(s);
            }
            long t0 = System.nanoTime();
            List<Socket> open = new ArrayList<>(sockets);
            while (!open.isEmpty()) {
                assertThat((System.nanoTime() - t0) / 1_000_000).as("stalled connections closed in time").isLessThan(30_000);
                for (Socket s : List.copyOf(open)) if (closedByServer(s)) open.remove(s);
            }
        } finally {
            for (Socket s : sockets) s.close();
        }
    }

    @Test
    @Order(8)
    void theGroupIsHealthyAfterAllOfIt() {
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        ProcessGroup.awaitInSync(pair.secondary(), SOON);
        assertThat(ProcessGroup.getJson(pair.primary(), "/api/v1/node").getBoolean("maintenance")).isFalse();
        assertThat(ProcessGroup.getJson(pair.secondary(), "/api/v1/node").getBoolean("maintenance")).isFalse();
    }

    // ---- helpers ----

    /** Writes one trickled byte and reads: true once the server has closed the connection. */
    private static boolean closedByServer(Socket s) {
        try {
            OutputStream out = s.getOutputStream();
            out.write('x');
            out.flush();
            int b = s.getInputStream().read(); // waits at most the socket timeout (250 ms): the pace of the trickle
            return b == -1 || b == 'H'; // closed, or answered (a 408) and closing
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }

    record Raw(int status, String head, String body) {
        JsonObject json() {
            return new JsonObject(body);
        }
    }

    /** Sends {@code request} as is over a new connection; reads one answer (it must come within 15 s). */
    static Raw raw(NodeProcess n, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", n.httpPort)) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) throw new AssertionError("the node closed the connection without an answer: " + head);
                head.write(b);
            }
            String h = head.toString(StandardCharsets.ISO_8859_1);
            int status = Integer.parseInt(h.substring(9, 12));
            int length = 0;
            for (String line : h.split("\r\n")) {
                if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).strip());
            }
            return new Raw(status, h, new String(in.readNBytes(length), StandardCharsets.UTF_8));
        }
    }

    static HttpResponse<String> anonymous(NodeProcess n, String method, String path, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(n.url() + path)).timeout(SOON).header("content-type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(NodeProcess n, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(n.url() + path)).timeout(SOON).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static CompletableFuture<HttpResponse<String>> getAsync(NodeProcess n, String path) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create(n.url() + path)).timeout(SOON).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> deploy(NodeProcess n, String name, byte[] zip) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(n.url() + "/api/v1/workflows?name=" + name)).timeout(SOON)
                .header("content-type", "application/zip").header("Authorization", "Bearer " + n.adminToken())
                .POST(HttpRequest.BodyPublishers.ofByteArray(zip)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> delete(NodeProcess n, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(n.url() + path)).timeout(SOON).header("Authorization", "Bearer " + n.adminToken())
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    static String state(NodeProcess n, String workflow) {
        for (Object o : ProcessGroup.getJson(n, "/api/v1/workflows").getJsonArray("workflows")) {
            JsonObject w = (JsonObject) o;
            if (w.getString("name").equals(workflow)) return w.getString("state");
        }
        return "absent";
    }

    static boolean loaded(NodeProcess n, String workflow) {
        return state(n, workflow).equals("loaded");
    }

    static void restart(NodeProcess n) throws IOException {
        n.close();
        n.start();
        n.awaitStatus200("/health/ready", Duration.ofSeconds(120));
        ProcessGroup.awaitInSync(n, SOON);
    }

    /** Raw entries in order; names are written as given (a NUL byte included). */
    static byte[] zip(Map<String, byte[]> entries) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
