package dev.tandem.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Http;
import dev.tandem.testing.SingleNode;
import dev.tandem.testing.TestNode;
import java.net.URI;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every bad input of the walking skeleton gets the right status and a JSON error that says what to do. */
class HttpErrorsTest {
    static TestNode node;
    static Http http;

    @RegisterExtension
    static final SingleNode single = SingleNode.serving("/workflows", "http.body_limit=2KiB");

    @BeforeAll
    static void start() {
        node = single.node();
        http = node.http;
    }

    private static void assertJsonError(Http.Response r, int status, String code, String messagePart) {
        assertThat(r.status()).isEqualTo(status);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.json().getInteger("status")).isEqualTo(status);
        assertThat(r.json().getString("code")).isEqualTo(code);
        assertThat(r.json().getString("message")).contains(messagePart);
    }

    @Test
    void healthIsUpAndReady() {
        assertThat(http.get("/health/live").status()).isEqualTo(200);
        assertThat(http.get("/health/ready").status()).isEqualTo(200);
        assertThat(http.get("/health/ready").json().getString("node")).isEqualTo("node-a");
    }

    @Test
    void malformedJsonIs400() {
        assertJsonError(http.post("/workflows/api/echo", "{\"owner\": "), 400, "bad_request", "malformed JSON");
    }

    @Test
    void aBodyThatIsNotJsonIs400() {
        Http.Response r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.node.httpPort() + "/workflows/api/echo"))
                .header("content-type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("owner=me")));
        assertJsonError(r, 400, "bad_request", "Content-Type: application/json");
    }

    @Test
    void unknownWorkflowRouteAndPathAre404() {
        assertJsonError(http.get("/workflows/nope/x"), 404, "not_found", "no workflow named 'nope'");
        assertJsonError(http.get("/workflows/api/no/such/route"), 404, "not_found", "has no route /no/such/route");
        assertJsonError(http.get("/elsewhere"), 404, "not_found", "nothing at /elsewhere");
    }

    @Test
    void wrongMethodIs405WithAllow() {
        Http.Response r = http.delete("/workflows/api/echo");
        assertJsonError(r, 405, "method_not_allowed", "use GET or POST");
        assertThat(r.header("Allow")).isEqualTo("GET, POST");
        assertJsonError(http.post("/health/live", "{}"), 405, "method_not_allowed", "not allowed");
    }

    @Test
    void aBodyOverTheLimitIs413AndTheNodeKeepsServing() {
        String big = "{\"pad\": \"" + "x".repeat(4096) + "\"}";
        assertJsonError(http.post("/workflows/api/echo", big), 413, "payload_too_large", "http.body_limit");
        assertThat(http.post("/workflows/api/echo", "{\"small\": true}").status()).isEqualTo(200);
    }

    @Test
    void aBrokenWorkflowIs503() {
        assertJsonError(http.get("/workflows/broken/"), 503, "unavailable", "failed to load");
    }
}
