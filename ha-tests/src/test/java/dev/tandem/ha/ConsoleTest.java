package dev.tandem.ha;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.hawkular.agent.prometheus.text.TextPrometheusMetricsProcessor;
import org.hawkular.agent.prometheus.types.Gauge;
import org.hawkular.agent.prometheus.types.MetricFamily;
import org.hawkular.agent.prometheus.walkers.CollectorPrometheusMetricsWalker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The web console in a real browser (Debian's headless Chromium) against a real group of node
 * processes (pair + witness): an operator's session from login to a kill -9 of the primary that the
 * console follows without a reload. Screenshots of each step land in target/console-screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleTest {
    static final Duration SOON = dev.tandem.testing.Bound.soon().deadline(); // no promise behind it: the CI deadline only
    static final String USER = "ops", PASSWORD = "console-pass-1";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    @TempDir
    static Path root;
    static ProcessGroup group;
    static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        if (!Browser.available()) {
            // CI installs them (.ci/run); elsewhere the test says what is missing instead of failing on it
            if ("true".equals(System.getenv("CI"))) throw new AssertionError("chromium and chromium-driver are missing (.ci/run installs them)");
            Assumptions.abort("install chromium and chromium-driver (apt) to run the console tests");
        }
        Path workflows = root.resolve("workflows");
        copy(NodeProcess.home().resolve("sample-workflows/hello"), workflows.resolve("hello"));
        copy(NodeProcess.home().resolve("ha-tests/src/test/resources/console-workflows/flaky"), workflows.resolve("flaky"));
        group = ProcessGroup.start(root, workflows);
        ProcessGroup.Pair pair = group.awaitPrimaryAndSecondary(SOON);
        var r = ProcessGroup.post(pair.primary(), "/api/v1/users", "{\"user\": \"" + USER + "\", \"password\": \"" + PASSWORD + "\"}", SOON);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        // a page's Content-Security-Policy names the node URLs its node knew when it served the page, and the
        // witness may join after the pair has elected: open the console once the primary knows all three
        // (a node that appears later makes the console load itself again; these tests are not about that)
        dev.tandem.testing.Await.until("the primary knows the witness and its URL", SOON, () -> witnessKnownTo(pair.primary()));
        browser = new Browser(root.resolve("chromium"), NodeProcess.home().resolve("ha-tests/target/console-screenshots"), 1280, 1000);
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (group != null) group.close();
    }

    static boolean witnessKnownTo(NodeProcess n) {
        try {
            var nodes = ProcessGroup.getJson(n, "/api/v1/group").getJsonArray("nodes");
            for (int i = 0; i < nodes.size(); i++) {
                var node = nodes.getJsonObject(i);
                if ("witness".equals(node.getString("kind")) && "up".equals(node.getString("state")) && node.getString("http") != null) return true;
            }
            return false;
        } catch (RuntimeException e) {
            return false; // not answering yet: the deadline decides
        }
    }

    static void copy(Path from, Path to) throws Exception {
        try (var files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }

    /** Opens the console served by {@code n} and logs in, unless this tab holds a session for that origin already. */
    static void login(NodeProcess n) {
        browser.open(n.url() + "/console/");
        String shown = browser.await("the login page or the group", SOON, d -> d.findElement(By.id("login-form")).isDisplayed() ? "login"
                : d.findElement(By.id("group")).isDisplayed() ? "group" : null);
        if (shown.equals("group")) return;
        browser.find("#login-user").clear();
        browser.find("#login-user").sendKeys(USER);
        browser.find("#login-password").clear();
        browser.find("#login-password").sendKeys(PASSWORD);
        browser.find("#login-submit").click();
        browser.awaitVisible("#group", SOON);
    }

    /**
     * The role the console shows for {@code node}, read in one step in the page: the console redraws the cards as the
     * group's state arrives, so an element found by one WebDriver call can be gone by the next (a stale element).
     */
    static String roleShown(String node) {
        Object role = ((org.openqa.selenium.JavascriptExecutor) browser.driver).executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.getAttribute('data-role') : null;",
                "#group [data-node='" + node + "']");
        return role == null ? null : role.toString();
    }

    /** Clicks {@code button}, then OK in the confirmation dialog, and waits for the action's result line. */
    static WebElement confirm(String button) {
        browser.find(button).click();
        browser.awaitVisible("#confirm-dialog", SOON);
        assertThat(browser.find("#confirm-text").getText()).as("the dialog says what will happen").isNotBlank();
        browser.shot("confirm-" + button.replaceAll("[^a-z-]", ""));
        browser.find("#confirm-ok").click();
        return browser.await("the result of " + button, SOON, d -> {
            WebElement r = d.findElement(By.id("action-result"));
            String outcome = r.getAttribute("data-outcome");
            return outcome != null && !outcome.isEmpty() && !outcome.equals("pending") ? r : null;
        });
    }

    @Test
    @Order(1)
    void aWrongPasswordIsRefusedWithAMessage_theRightOneLogsIn() {
        NodeProcess primary = group.awaitPrimary(SOON);
        browser.open(primary.url() + "/console/");
        browser.awaitVisible("#login-form", SOON);
        browser.find("#login-user").sendKeys(USER);
        browser.find("#login-password").sendKeys("not-the-password");
        browser.find("#login-submit").click();
        WebElement error = browser.awaitVisible("#login-error", SOON);
        browser.await("the refusal says why", SOON, d -> error.getText().contains("wrong user or password"));
        browser.shot("login-refused");
        login(primary);
        browser.await("the user is shown", SOON, d -> d.findElement(By.id("whoami")).getText().contains(USER));
        browser.shot("logged-in");
    }

    @Test
    @Order(2)
    void bothDataNodesAndTheWitnessAreShownWithTheirRoles() {
        NodeProcess primary = group.awaitPrimary(SOON), secondary = group.other(primary);
        browser.open(primary.url() + "/console/#/group");
        browser.await("the roles of all three", SOON, d -> "PRIMARY".equals(roleShown(primary.name))
                && "SECONDARY".equals(roleShown(secondary.name)) && "WITNESS".equals(roleShown("witness")));
        assertThat(browser.find("#source").getAttribute("data-node")).isEqualTo(primary.name);
        assertThat(browser.find("#source").getText()).contains("as seen by " + primary.name);
        assertThat(browser.find("#quorum").getText()).contains("3").contains("3");
        browser.await("no banner on a healthy group", SOON, d -> !d.findElement(By.id("banner")).isDisplayed());
        browser.shot("group");
    }

    @Test
    @Order(3)
    void aHookThatRaisesShowsItsFailureAndTracebackInTheTimeline() {
        browser.open(browser.driver.getCurrentUrl().replaceAll("#.*", "") + "#/timeline");
        new Select(browser.awaitVisible("#filter-kind", SOON)).selectByValue("hook");
        WebElement failed = browser.await("a failed hook run of flaky", SOON, d -> d.findElements(
                        By.cssSelector("#timeline-list .event[data-type='HOOK_RUN']")).stream()
                .filter(e -> !"ok".equals(e.getAttribute("data-outcome")) && e.getText().contains("flaky")).findFirst().orElse(null));
        // the list is drawn anew as events arrive: find the item again by its node and id, not by the element
        String item = "#timeline-list .event[data-type='HOOK_RUN'][data-node='" + failed.getAttribute("data-node") + "'][data-id='"
                + failed.getAttribute("data-id") + "']";
        failed.click();
        browser.await("the traceback is shown", SOON, d -> d.findElement(By.cssSelector(item + " .event-detail")).getText()
                .contains("RuntimeError: the hook failed on purpose"));
        browser.shot("hook-traceback");
    }

    @Test
    @Order(4)
    void maintenanceOnShowsTheBanner_offRemovesIt() {
        browser.open(browser.driver.getCurrentUrl().replaceAll("#.*", "") + "#/group");
        browser.await("maintenance button", SOON, d -> d.findElement(By.id("action-maintenance")).getText().toLowerCase().contains("on"));
        assertThat(confirm("#action-maintenance").getAttribute("data-outcome")).isEqualTo("ok");
        browser.awaitVisible("#banner [data-problem='maintenance']", SOON);
        browser.shot("maintenance-on");
        browser.await("maintenance button now turns it off", SOON, d -> d.findElement(By.id("action-maintenance")).getText().toLowerCase().contains("off"));
        assertThat(confirm("#action-maintenance").getAttribute("data-outcome")).isEqualTo("ok");
        browser.await("the maintenance banner is gone", SOON, d -> d.findElements(By.cssSelector("#banner [data-problem='maintenance']")).isEmpty()
                || !d.findElement(By.cssSelector("#banner [data-problem='maintenance']")).isDisplayed());
        browser.shot("maintenance-off");
    }

    @Test
    @Order(5)
    void aSwitchoverFromTheConsoleSwapsTheRoles() {
        NodeProcess primary = group.awaitPrimary(SOON), secondary = group.other(primary);
        ProcessGroup.awaitInSync(secondary, SOON);
        browser.find("#action-switchover").click();
        browser.awaitVisible("#confirm-dialog", SOON);
        new Select(browser.find("#switchover-target")).selectByValue(secondary.name);
        browser.find("#confirm-cancel").click(); // the first time: changed our mind; nothing happens
        browser.await("the dialog closed", SOON, d -> !d.findElement(By.id("confirm-dialog")).isDisplayed());
        assertThat(roleShown(primary.name)).isEqualTo("PRIMARY");
        browser.find("#action-switchover").click();
        browser.awaitVisible("#confirm-dialog", SOON);
        new Select(browser.find("#switchover-target")).selectByValue(secondary.name);
        assertThat(browser.find("#confirm-text").getText()).contains(secondary.name);
        browser.find("#confirm-ok").click();
        browser.await("the switchover's result", SOON, d -> "ok".equals(d.findElement(By.id("action-result")).getAttribute("data-outcome")));
        browser.await("the roles swapped", SOON, d -> "PRIMARY".equals(roleShown(secondary.name)) && "SECONDARY".equals(roleShown(primary.name)));
        assertThat(group.role(secondary)).isEqualTo("PRIMARY");
        browser.shot("switched-over");
    }

    @Test
    @Order(6)
    void aWorkflowZipDeployedFromTheConsoleAnswersOnBothNodes() throws Exception {
        Path zip = root.resolve("greet.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("workflow.py"));
            z.write("""
                    from tandem import route, ha

                    @route("GET", "/")
                    def greet(request):
                        return {"greeting": "deployed from the console", "node": ha.get_node_state()["name"]}
                    """.getBytes(StandardCharsets.UTF_8));
        }
        browser.open(browser.driver.getCurrentUrl().replaceAll("#.*", "") + "#/workflows");
        browser.awaitVisible("#deploy-form", SOON);
        browser.find("#deploy-name").sendKeys("greet");
        browser.find("#deploy-file").sendKeys(zip.toString());
        WebElement result = confirm("#deploy-submit");
        assertThat(result.getAttribute("data-outcome")).as(result.getText()).isEqualTo("ok");
        browser.awaitVisible("#workflows-list [data-workflow='greet'][data-state='loaded']", SOON);
        browser.shot("deployed");
        for (String name : List.of("node-a", "node-b")) {
            NodeProcess n = group.node(name);
            dev.tandem.testing.Await.until("greet answers on " + name, SOON, () -> {
                try {
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(n.url() + "/workflows/greet/"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    return r.statusCode() == 200 && r.body().contains("deployed from the console");
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    @Test
    @Order(7)
    void metricsParseAsPrometheusText_andTheRoleGaugesFollowAFailover_whichTheConsoleFollowsWithoutAReload() throws Exception {
        NodeProcess primary = group.awaitPrimary(SOON), secondary = group.other(primary);
        ProcessGroup.awaitInSync(secondary, SOON);
        assertThat(roleGauges(primary)).containsEntry("PRIMARY", 1.0).containsEntry("SECONDARY", 0.0);
        assertThat(roleGauges(secondary)).containsEntry("PRIMARY", 0.0).containsEntry("SECONDARY", 1.0);
        long term = ProcessGroup.getJson(primary, "/api/v1/node").getLong("term");

        login(primary); // the console opened on the primary
        browser.await("the console shows " + primary.name + " as primary", SOON, d -> "PRIMARY".equals(roleShown(primary.name)));
        browser.shot("before-kill");
        primary.kill9();
        browser.await("the console switched to " + secondary.name, SOON, d -> secondary.name.equals(
                d.findElement(By.id("source")).getAttribute("data-node")) && d.findElement(By.id("switched")).isDisplayed());
        browser.await(secondary.name + " shown as primary of a newer term", SOON, d -> "PRIMARY".equals(roleShown(secondary.name)));
        WebElement card = browser.find("#group [data-node='" + secondary.name + "']");
        assertThat(card.getText()).contains(String.valueOf(term + 1));
        browser.shot("after-kill");
        browser.open(browser.driver.getCurrentUrl().replaceAll("#.*", "") + "#/timeline"); // a hash change: the page stays loaded
        WebElement failover = browser.await("the failover in the timeline", SOON, d -> d.findElements(
                        By.cssSelector("#timeline-list .event[data-type='NODE_ROLE_CHANGED'][data-node='" + secondary.name + "'][data-took-ms]")).stream()
                .findFirst().orElse(null));
        assertThat(Long.parseLong(failover.getAttribute("data-took-ms"))).isGreaterThanOrEqualTo(0);
        assertThat(failover.getText()).contains("ms");
        browser.shot("failover-timeline");

        dev.tandem.testing.Await.until("the survivor's role gauges", SOON, () -> {
            try {
                return roleGauges(secondary).getOrDefault("PRIMARY", 0.0) == 1.0;
            } catch (Exception e) {
                return false;
            }
        });
        primary.start();
        primary.awaitStatus200("/health/secondary", Duration.ofSeconds(120));
    }

    @Test
    @Order(8)
    void onA400PixelScreenNothingScrollsSideways_andLogoutEndsTheSession() {
        NodeProcess primary = group.awaitPrimary(SOON);
        login(primary);
        browser.driver.manage().window().setSize(new org.openqa.selenium.Dimension(400, 900));
        browser.await("the cards laid out for 400 px", SOON, d -> "PRIMARY".equals(roleShown(primary.name)));
        Object overflow = ((org.openqa.selenium.JavascriptExecutor) browser.driver)
                .executeScript("return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
        assertThat(((Number) overflow).longValue()).as("horizontal overflow in px at 400 px wide").isLessThanOrEqualTo(0);
        browser.shot("narrow-400px");
        browser.driver.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 1000));
        String token = (String) ((org.openqa.selenium.JavascriptExecutor) browser.driver).executeScript(
                "for (let i = 0; i < sessionStorage.length; i++) { try { const v = JSON.parse(sessionStorage.getItem(sessionStorage.key(i)));"
                        + " if (v && v.token) return v.token; } catch (e) {} } return null;");
        assertThat(token).as("the session's token, kept in sessionStorage").isNotBlank();
        browser.find("#logout").click();
        browser.awaitVisible("#login-form", SOON);
        dev.tandem.testing.Await.until("the logged-out token is refused", SOON, () -> {
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create(primary.url() + "/api/v1/whoami")).timeout(Duration.ofSeconds(5))
                        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 401;
            } catch (Exception e) {
                return false;
            }
        });
        browser.shot("logged-out");
    }

    @Test
    @Order(9)
    void theWitnessServesTheConsoleToo_aLoginThroughItWorks() {
        NodeProcess primary = group.awaitPrimary(SOON), witness = group.node("witness");
        login(witness); // the witness keeps no users: it relays the login to the primary and asks it about the token
        browser.await("the group as the witness sees it", SOON, d -> "PRIMARY".equals(roleShown(primary.name))
                && "witness".equals(d.findElement(By.id("source")).getAttribute("data-node")));
        browser.shot("via-witness");
    }

    @Test
    @Order(10)
    void theConsoleWorksByKeyboard_andReadsInTheDark() {
        NodeProcess primary = group.awaitPrimary(SOON);
        var chrome = (org.openqa.selenium.chromium.HasCdp) browser.driver;
        chrome.executeCdpCommand("Emulation.setEmulatedMedia",
                Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
        login(primary);
        browser.await("the group", SOON, d -> "PRIMARY".equals(roleShown(primary.name)));
        var js = (org.openqa.selenium.JavascriptExecutor) browser.driver;
        String background = (String) js.executeScript("return getComputedStyle(document.body).backgroundColor;");
        int[] rgb = java.util.Arrays.stream(background.replaceAll("[^0-9,]", "").split(",")).limit(3).mapToInt(Integer::parseInt).toArray();
        assertThat(rgb[0] + rgb[1] + rgb[2]).as("a dark background in dark mode: " + background).isLessThan(3 * 80);
        browser.shot("dark");
        // Tab through the page to the switchover button, open its dialog with Enter, leave it with Escape
        js.executeScript("document.activeElement && document.activeElement.blur(); window.focus();");
        var keys = new org.openqa.selenium.interactions.Actions(browser.driver);
        boolean reached = false;
        for (int i = 0; i < 60 && !reached; i++) {
            keys.sendKeys(org.openqa.selenium.Keys.TAB).perform();
            reached = "action-switchover".equals(js.executeScript("return document.activeElement && document.activeElement.id;"));
        }
        assertThat(reached).as("the switchover button is reachable by Tab").isTrue();
        keys.sendKeys(org.openqa.selenium.Keys.ENTER).perform();
        browser.awaitVisible("#confirm-dialog", SOON);
        browser.shot("keyboard-dialog");
        keys.sendKeys(org.openqa.selenium.Keys.ESCAPE).perform();
        browser.await("Escape closes the dialog", SOON, d -> !d.findElement(By.id("confirm-dialog")).isDisplayed());
        assertThat(roleShown(primary.name)).as("nothing happened").isEqualTo("PRIMARY");
        chrome.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of()));
    }

    /** GET /metrics, parsed by a Prometheus text-format parser: the tandem_role gauges by role. */
    static Map<String, Double> roleGauges(NodeProcess n) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(n.url() + "/metrics")).timeout(Duration.ofSeconds(5))
                .header("Authorization", "Bearer " + n.adminToken()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
        CollectorPrometheusMetricsWalker walker = new CollectorPrometheusMetricsWalker();
        new TextPrometheusMetricsProcessor(new ByteArrayInputStream(r.body().getBytes(StandardCharsets.UTF_8)), walker).walk();
        Map<String, MetricFamily> families = new HashMap<>();
        for (MetricFamily f : walker.getAllMetricFamilies()) families.put(f.getName(), f);
        assertThat(families).containsKeys("tandem_term", "tandem_primary", "tandem_voters_visible", "tandem_maintenance", "jvm_memory_used_bytes");
        Map<String, Double> roles = new HashMap<>();
        for (var m : families.get("tandem_role").getMetrics()) {
            assertThat(m.getLabels()).containsEntry("node", n.name).containsKey("group");
            roles.put(m.getLabels().get("role"), ((Gauge) m).getValue());
        }
        return roles;
    }
}
