package dev.tandem.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.store.Store;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A deployed record that cannot be applied on this node (written by an older build, say) is reported and skipped, never blocking the rest. */
class DeploymentsTest {
    @TempDir
    Path dir;

    static byte[] zip(String... nameAndContent) throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(bytes)) {
            for (int i = 0; i < nameAndContent.length; i += 2) {
                z.putNextEntry(new ZipEntry(nameAndContent[i]));
                z.write(nameAndContent[i + 1].getBytes());
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void aRecordThatCannotBeUnpackedIsReportedOnceAndSkipped() throws Exception {
        try (Store store = Store.open(dir.resolve("data"));
             WorkflowEngine engine = new WorkflowEngine(dir.resolve("pylib"), store, dev.tandem.testing.TestNode.NO_GROUP)) {
            SystemStore system = new SystemStore(store);
            // written straight to the store, past the deploy check: what an older build let through
            system.deploy("poison", zip("workflow.py", "x = 1", "lib/a\u0000b.py", "y = 2"), "test");
            system.deploy("clash", zip("workflow.py", "x = 1", "workflow.py/inner.txt", "y"), "test");
            system.deploy("good", zip("workflow.py", "from tandem import route\n\n@route('GET', '/')\ndef hi(request):\n    return {}\n"), "test");
            List<String> events = new CopyOnWriteArrayList<>();
            Deployments d = new Deployments(system, engine, dir.resolve("deployed"), dir.resolve("local"), (type, data) -> events.add(type + " " + data.getString("workflow")));
            d.reconcile();
            assertThat(engine.get("good")).isNotNull();
            assertThat(engine.get("good").loaded()).isTrue();
            assertThat(d.failures()).containsOnlyKeys("poison", "clash");
            assertThat(d.failure("poison")).contains("cannot apply");
            assertThat(events).contains("WORKFLOW_DEPLOYED good", "WORKFLOW_DEPLOY_FAILED poison", "WORKFLOW_DEPLOY_FAILED clash");
            d.reconcile(); // reported once: the same record is not retried until it changes
            assertThat(events.stream().filter(e -> e.startsWith("WORKFLOW_DEPLOY_FAILED"))).hasSize(2);
            // a later deploy and a removal go on
            system.deploy("poison", zip("workflow.py", "x = 2"), "test");
            system.undeploy("clash");
            d.reconcile();
            assertThat(engine.get("poison").loaded()).isTrue();
            assertThat(d.failures()).isEmpty();
            assertThat(Files.exists(dir.resolve("deployed/good/workflow.py"))).isTrue();
            d.close();
        }
    }

    @Test
    void aZipLargerThanOneDocumentIsStoredInParts() throws Exception {
        try (Store store = Store.open(dir.resolve("data2"))) {
            SystemStore system = new SystemStore(store);
            byte[] big = new byte[900 * 1024];
            new java.util.Random(1).nextBytes(big);
            system.deploy("big", big, "test");
            assertThat(system.zip("big")).isEqualTo(big);
            assertThat(system.deployed().get("big").getInteger("bytes")).isEqualTo(big.length);
            system.deploy("big", new byte[] {1, 2, 3}, "test");
            assertThat(system.zip("big")).containsExactly(1, 2, 3);
            system.undeploy("big");
            assertThat(system.zip("big")).isNull();
            assertThat(new JsonObject().put("x", 1).getInteger("x")).isEqualTo(1);
        }
    }
}
