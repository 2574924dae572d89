package dev.tandem.ha;

import static dev.tandem.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import dev.tandem.testing.Await;
import dev.tandem.testing.Bound;
import dev.tandem.testing.Runbook;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's runbook, on real processes (pair + witness) with real signals, in the words of
 * {@link Runbook}. Waits are bounded by the SPEC 8 promise plus the CI slack, stated apart ({@link Bound}).
 * One group serves the scenarios in order; each scenario leaves it healthy (both data nodes up, one primary).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverTest {
    static final Duration SOON = Bound.soon().deadline(); // no promise behind it: the CI deadline only
    static final Duration FAILURE_TIMEOUT = Duration.ofSeconds(1); // the default, which ProcessGroup runs with
    @TempDir
    static Path root;
    static ProcessGroup group;

    @BeforeAll
    static void startGroup() throws Exception {
        group = ProcessGroup.start(root);
    }

    @AfterAll
    static void stopGroup() {
        if (group != null) group.close();
    }

    @Test
    @Order(1)
    void whenThePrimaryIsKilled_theSecondaryBecomesPrimary_andTheOldPrimaryRejoinsAsSecondary() throws Exception {
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        NodeProcess primary = pair.primary(), secondary = pair.secondary();
        long term = ProcessGroup.getJson(primary, "/api/v1/node").getLong("term");
        // a login made on the primary (users and tokens are replicated)
        assertThat(ProcessGroup.post(primary, "/api/v1/users", "{\"user\": \"ops\", \"password\": \"s3cret-enough\"}", SOON).statusCode())
                .isEqualTo(201);
        var login = ProcessGroup.post(primary, "/api/v1/login", "{\"user\": \"ops\", \"password\": \"s3cret-enough\"}", SOON);
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        String token = new JsonObject(login.body()).getString("token");

        group.kill9(primary.name);
        group.expectPrimary(secondary.name).within(Bound.failover());
        assertThat(group.awaitPrimary(SOON).name).isEqualTo(secondary.name);
        HttpResponse<String> whoami = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(secondary.url() + "/api/v1/whoami"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(whoami.statusCode()).as("the token keeps working after failover: " + whoami.body()).isEqualTo(200);
        assertThat(new JsonObject(whoami.body()).getString("user")).isEqualTo("ops");
        JsonObject now = ProcessGroup.getJson(secondary, "/api/v1/node");
        assertThat(now.getLong("term")).isGreaterThan(term);
        // the new primary's decision line says so: the coordinator's "primary node-b (term 2) is in the view", or what it follows
        group.expectDecision(secondary.name, Runbook.namesPrimary(secondary.name, now.getLong("term"))).within(Bound.soon());

        primary.start();
        primary.awaitStatus200("/health/secondary", Duration.ofSeconds(120));
        assertThat(group.role(primary)).isEqualTo("SECONDARY");
        assertThat(ProcessGroup.getJson(primary, "/api/v1/node").getLong("term")).isEqualTo(now.getLong("term"));
    }

    @Test
    @Order(2)
    void whenThePrimaryIsFrozen_theSecondaryTakesOver_andTheThawedNodeNeverClaimsTheOldTerm() throws Exception {
        NodeProcess primary = group.awaitPrimary(SOON);
        NodeProcess secondary = group.other(primary);
        long oldTerm = ProcessGroup.getJson(primary, "/api/v1/node").getLong("term");
        // watch the frozen node's /health/primary the whole time, as a load balancer would
        // (an answer decided just before the freeze is written after the thaw: it is judged by when the node
        // decided it, checked_at_ms, not by when it arrived)
        List<long[]> primaryAnswers = new CopyOnWriteArrayList<>(); // {checkedAtMillis, term}
        AtomicBoolean watching = new AtomicBoolean(true);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                try {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(primary.url() + "/health/primary"))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        JsonObject answer = new JsonObject(r.body());
                        primaryAnswers.add(new long[] {answer.getLong("checked_at_ms"), answer.getLong("term")});
                    }
                } catch (Exception e) {
                    NodeProcess.pause(5);
                }
            }
        });
        watcher.start();

        group.freeze(primary.name); // SIGSTOP
        group.expectPrimary(secondary.name).within(Bound.freeze(FAILURE_TIMEOUT));
        NodeProcess survivor = group.awaitPrimary(SOON);
        long newTermBegan = System.currentTimeMillis();
        assertThat(survivor.name).isEqualTo(secondary.name);
        long newTerm = ProcessGroup.getJson(survivor, "/api/v1/node").getLong("term");
        assertThat(newTerm).isGreaterThan(oldTerm);

        group.thaw(primary.name); // SIGCONT
        group.expectRole(primary.name, "SECONDARY").within(Bound.soon());
        watching.set(false);
        watcher.join();
        assertThat(primaryAnswers).as("no /health/primary 200 in the old term after the new term began")
                .noneMatch(a -> a[0] > newTermBegan && a[1] <= oldTerm);
        assertThat(ProcessGroup.getJson(primary, "/api/v1/node").getLong("term")).isEqualTo(newTerm);
        ProcessGroup.awaitInSync(primary, SOON); // and follows the new primary
    }

    @Test
    @Order(3)
    void plannedSwitchoverBothWays() throws Exception {
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        NodeProcess primary = pair.primary(), secondary = pair.secondary();
        assertThat(group.switchover(primary.name, secondary.name).getBoolean("ok")).isTrue();
        group.expectPrimary(secondary.name).within(Bound.switchover());
        assertThat(group.awaitPrimary(SOON).name).isEqualTo(secondary.name);
        ProcessGroup.awaitInSync(primary, SOON); // the old primary follows

        // and back, asked through the secondary this time (it relays to the primary), to the best secondary
        assertThat(ProcessGroup.switchover(primary, null).getString("primary")).isEqualTo(primary.name);
        assertThat(group.awaitPrimary(SOON).name).isEqualTo(primary.name);
    }

    @Test
    @Order(4)
    void maintenanceBlocksFailoverUntilItIsSwitchedOff() throws Exception {
        NodeProcess primary = group.awaitPrimary(SOON);
        NodeProcess secondary = group.other(primary);
        group.maintenance(secondary.name, true);
        until("every node knows", SOON, () -> group.nodes.values().stream()
                .allMatch(n -> ProcessGroup.getJson(n, "/api/v1/node").getBoolean("maintenance")));

        group.kill9(primary.name);
        // not just "maintenance" (every line says so once it is on): the primary is gone and nobody is elected
        group.expectDecision(secondary.name, "no primary").within(Bound.soon());
        assertThat(group.decision(secondary.name)).contains("maintenance: automatic failover paused");
        Await.holdsFor("no failover while in maintenance", FAILURE_TIMEOUT.multipliedBy(3),
                () -> secondary.status("/health/primary", Duration.ofSeconds(1)) == 503);

        group.maintenance(secondary.name, false);
        group.expectPrimary(secondary.name).within(Bound.soon());
        assertThat(group.awaitPrimary(SOON).name).isEqualTo(secondary.name);
        primary.start();
        primary.awaitStatus200("/health/secondary", Duration.ofSeconds(120));
    }
}
