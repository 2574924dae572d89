package dev.tandem.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Workflow code without bounds: module code that never finishes, routes that never end; the node goes on. */
class WorkflowBoundsTest {
    @TempDir
    Path dir;

    static final NodeView NODE = dev.tandem.testing.TestNode.NO_GROUP;

    @ParameterizedTest
    @ValueSource(strings = {"import time\ntime.sleep(10**6)\n", "while True:\n    pass\n", "import time\nwhile True:\n    time.sleep(0.01)\n"})
    void moduleCodeThatNeverFinishesIsStopped_andTheWorkflowIsKeptAsFailed(String code) throws Exception {
        Path wf = Files.createDirectories(dir.resolve("wf/stuck"));
        Files.writeString(wf.resolve("workflow.py"), code);
        try (Store store = Store.open(dir.resolve("data"));
             WorkflowEngine engine = new WorkflowEngine(dir.resolve("pylib"), store, NODE).timeouts(Duration.ofSeconds(2), Duration.ofSeconds(2))) {
            long t0 = System.nanoTime();
            Workflow w = engine.load("stuck", wf);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(w.loaded()).isFalse();
            assertThat(w.loadError()).contains("load_timeout");
            assertThat(ms).as("load returns (ms)").isLessThan(30_000);
            long u0 = System.nanoTime();
            assertThat(engine.unload("stuck")).isTrue();
            assertThat((System.nanoTime() - u0) / 1_000_000).as("unload returns (ms)").isLessThan(15_000);
        }
    }

    @Test
    void aRouteThatNeverEndsIsAnswered_andTheWorkflowServesAgain() throws Exception {
        Path wf = Files.createDirectories(dir.resolve("wf/spin"));
        Files.writeString(wf.resolve("workflow.py"), """
                import time
                from tandem import route, state

                @route('GET', '/spin')
                def spin(request):
                    with state.transaction() as tx:
                        tx.put('c', 'k', {'v': 1})
                        while True:
                            pass

                @route('GET', '/sleep')
                def sleep(request):
                    time.sleep(10**6)

                @route('GET', '/ok')
                def ok(request):
                    return {'ok': True}
                """);
        try (Store store = Store.open(dir.resolve("data"));
             WorkflowEngine engine = new WorkflowEngine(dir.resolve("pylib"), store, NODE).timeouts(Duration.ofSeconds(1), Duration.ofSeconds(30))) {
            Workflow w = engine.load("spin", wf);
            assertThat(w.loaded()).as(String.valueOf(w.loadError())).isTrue();
            for (String path : new String[] {"/spin", "/sleep"}) {
                var route = w.match(path).get(0);
                var running = w.call(route.getKey(), route.getValue(), new WorkflowRequest("GET", path, Map.of(), Map.of(), null, null));
                var ok = w.match("/ok").get(0);
                var queued = w.call(ok.getKey(), ok.getValue(), new WorkflowRequest("GET", "/ok", Map.of(), Map.of(), null, null));
                Throwable err = null;
                try {
                    running.get(20, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    err = e.getCause();
                }
                assertThat(Workflow.timedOut(err)).as(path + ": " + err).isTrue();
                try {
                    queued.get(20, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(Workflow.timedOut(e.getCause())).isTrue();
                }
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                WorkflowResponse r = null;
                while (System.nanoTime() < end) {
                    try {
                        r = w.call(ok.getKey(), ok.getValue(), new WorkflowRequest("GET", "/ok", Map.of(), Map.of(), null, null)).get(20, TimeUnit.SECONDS);
                        break;
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(Workflow.timedOut(e.getCause())).isTrue();
                    }
                }
                assertThat(r).as(path + ": the workflow serves again").isNotNull();
                assertThat(r.status()).isEqualTo(200);
            }
            try (var tx = store.begin("spin")) {
                assertThat(tx.get("c", "k")).as("the stopped route's transaction was rolled back").isNull();
            }
        }
    }
}
