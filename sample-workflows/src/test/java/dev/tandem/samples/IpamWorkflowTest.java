package dev.tandem.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Http;
import dev.tandem.testing.TestNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ipam sample through real HTTP on a real node. */
class IpamWorkflowTest {
    @TempDir
    static Path root;
    static TestNode node;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        node = SampleNode.start(root);
        http = node.http;
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void allocatesTheNextFreeAddressReleasesAndReusesIt() {
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"lab\", \"cidr\": \"10.0.0.0/24\"}").status()).isEqualTo(201);
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"lab\", \"cidr\": \"10.0.0.0/24\"}").status()).isEqualTo(409);
        var first = http.post("/workflows/ipam/pools/lab/allocations", "{\"owner\": \"web-1\"}");
        assertThat(first.status()).isEqualTo(201);
        assertThat(first.json()).isEqualTo(new JsonObject().put("ip", "10.0.0.1").put("owner", "web-1"));
        assertThat(http.post("/workflows/ipam/pools/lab/allocations", "{\"owner\": \"web-2\"}").json().getString("ip")).isEqualTo("10.0.0.2");
        JsonArray list = http.get("/workflows/ipam/pools/lab/allocations").json().getJsonArray("allocations");
        assertThat(list).containsExactly(new JsonObject().put("ip", "10.0.0.1").put("owner", "web-1"),
                new JsonObject().put("ip", "10.0.0.2").put("owner", "web-2"));
        assertThat(http.delete("/workflows/ipam/pools/lab/allocations/10.0.0.1").status()).isEqualTo(204);
        assertThat(http.delete("/workflows/ipam/pools/lab/allocations/10.0.0.1").status()).isEqualTo(404);
        assertThat(http.get("/workflows/ipam/pools/lab/allocations").json().getJsonArray("allocations")).hasSize(1);
    }

    /** More allocations than one answer holds come page by page, across the store's 10,000-address scan blocks. */
    @Test
    void theListingPagesInAddressOrderAcrossScanBlocks() {
        // 10.50.0.0/21 is 171048960-171051007 as ints: the block boundary 171050000 is its 1,040th host
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"pages\", \"cidr\": \"10.50.0.0/21\"}").status()).isEqualTo(201);
        List<String> allocated = new ArrayList<>();
        for (int i = 0; i < 1050; i++) allocated.add(http.post("/workflows/ipam/pools/pages/allocations", "{\"owner\": \"o" + i + "\"}").json().getString("ip"));
        List<String> listed = new ArrayList<>();
        String from = null;
        int pages = 0;
        do {
            JsonObject page = http.get("/workflows/ipam/pools/pages/allocations?limit=400" + (from == null ? "" : "&from=" + from)).json();
            assertThat(page.getJsonArray("allocations").size()).isLessThanOrEqualTo(400);
            page.getJsonArray("allocations").forEach(a -> listed.add(((JsonObject) a).getString("ip")));
            from = page.getString("next");
            pages++;
        } while (from != null && pages < 10);
        assertThat(pages).isEqualTo(3);
        assertThat(listed).containsExactlyElementsOf(allocated); // every one, once, in address order
        assertThat(http.get("/workflows/ipam/pools/pages/allocations?limit=400&from=10.50.1.145").json().getJsonArray("allocations")
                .getJsonObject(0).getString("ip")).isEqualTo("10.50.1.145");
        assertThat(http.get("/workflows/ipam/pools/pages/allocations?from=10.50.7.0").json())
                .isEqualTo(new JsonObject().put("allocations", new JsonArray()).put("next", (Object) null));
        assertThat(http.get("/workflows/ipam/pools/pages/allocations?from=nowhere").status()).isEqualTo(400);
        assertThat(http.get("/workflows/ipam/pools/pages/allocations?from=fd00::1").body()).contains("IPv4");
    }

    @Test
    void theStatusRouteSaysWhichNodeAnsweredAndWhetherItTakesAllocations() {
        http.post("/workflows/ipam/pools", "{\"name\": \"status\", \"cidr\": \"10.9.0.0/28\"}");
        JsonObject status = http.get("/workflows/ipam/").json();
        assertThat(status.getString("node")).isEqualTo("node-a");
        assertThat(status.getString("role")).isEqualTo("PRIMARY");
        assertThat(status.getBoolean("writable")).isTrue();
        assertThat(status.getLong("lag")).isZero();
        assertThat(status.getInteger("pools")).isPositive();
    }

    @Test
    void aFullPoolAnswers409AndAReleasedAddressIsHandedOutAgain() {
        http.post("/workflows/ipam/pools", "{\"name\": \"tiny\", \"cidr\": \"192.168.5.0/30\"}"); // 2 hosts
        assertThat(http.post("/workflows/ipam/pools/tiny/allocations", "{\"owner\": \"a\"}").json().getString("ip")).isEqualTo("192.168.5.1");
        assertThat(http.post("/workflows/ipam/pools/tiny/allocations", "{\"owner\": \"b\"}").json().getString("ip")).isEqualTo("192.168.5.2");
        var full = http.post("/workflows/ipam/pools/tiny/allocations", "{\"owner\": \"c\"}");
        assertThat(full.status()).isEqualTo(409);
        assertThat(full.json().getString("message")).contains("full");
        http.delete("/workflows/ipam/pools/tiny/allocations/192.168.5.1");
        assertThat(http.post("/workflows/ipam/pools/tiny/allocations", "{\"owner\": \"c\"}").json().getString("ip")).isEqualTo("192.168.5.1");
    }

    @Test
    void badInputIsRefusedClearly() {
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"x\", \"cidr\": \"10.0.0.1/24\"}").json().getString("message"))
                .contains("not a network");
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"x\"}").status()).isEqualTo(400);
        assertThat(http.post("/workflows/ipam/pools/none/allocations", "{\"owner\": \"a\"}").status()).isEqualTo(404);
        assertThat(http.post("/workflows/ipam/pools", "[]").status()).isEqualTo(400);
    }

    @Test
    void anIpv6PoolHandsOutIpv6Addresses() {
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"v6\", \"cidr\": \"::/96\"}").status()).isEqualTo(201);
        String ip = http.post("/workflows/ipam/pools/v6/allocations", "{\"owner\": \"a\"}").json().getString("ip");
        assertThat(ip).isEqualTo("::1"); // was 0.0.0.1: ip_address(int) picks IPv4 for small numbers
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"v6b\", \"cidr\": \"2001:db8::/126\"}").status()).isEqualTo(201);
        assertThat(http.post("/workflows/ipam/pools/v6b/allocations", "{\"owner\": \"a\"}").json().getString("ip")).isEqualTo("2001:db8::1");
        assertThat(http.delete("/workflows/ipam/pools/v6/allocations/0.0.0.1").status()).isEqualTo(400);
        assertThat(http.delete("/workflows/ipam/pools/v6/allocations/::1").status()).isEqualTo(204);
    }

    @Test
    void anErrorEchoesAtMostAShortPieceOfTheInput() {
        String huge = "1".repeat(500_000);
        var r = http.post("/workflows/ipam/pools", "{\"name\": \"x\", \"cidr\": \"" + huge + "\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body().length()).isLessThan(1000);
        assertThat(r.json().getString("message")).contains("not a network").contains("500000 characters");
    }

    @Test
    void sixteenConcurrentClientsNeverGetTheSameAddress() throws Exception {
        assertThat(http.post("/workflows/ipam/pools", "{\"name\": \"busy\", \"cidr\": \"10.8.0.0/16\"}").status()).isEqualTo(201);
        int clients = 16, each = 40;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                String owner = "client-" + c;
                futures.add(pool.submit(() -> {
                    List<String> ips = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        var r = http.post("/workflows/ipam/pools/busy/allocations", "{\"owner\": \"" + owner + "\"}");
                        assertThat(r.status()).isEqualTo(201);
                        ips.add(r.json().getString("ip"));
                    }
                    return ips;
                }));
            }
            Set<String> all = new HashSet<>();
            int total = 0;
            for (Future<List<String>> f : futures) {
                for (String ip : f.get()) {
                    total++;
                    assertThat(all.add(ip)).as("address %s handed out twice", ip).isTrue();
                }
            }
            assertThat(total).isEqualTo(clients * each);
            JsonArray stored = http.get("/workflows/ipam/pools/busy/allocations").json().getJsonArray("allocations");
            assertThat(stored).hasSize(clients * each);
        } finally {
            pool.shutdownNow();
        }
    }
}
