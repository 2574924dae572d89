package dev.tandem.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/** A real child process writing to a real H2 file is killed with SIGKILL mid-stream; every acknowledged write must survive. */
class StoreCrashTest {
    @TempDir
    Path dir;

    @RepeatedTest(3)
    void everyAcknowledgedWriteSurvivesKillMinus9() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                StoreWriterMain.class.getName(), dir.toString()).redirectErrorStream(true).start();
        long lastAck = -1;
        int target = 300 + (int) (System.nanoTime() % 700); // kill at a different point each run
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ack ")) {
                    lastAck = Long.parseLong(line.substring(4));
                    if (lastAck >= target) break;
                }
            }
            child.toHandle().destroyForcibly(); // SIGKILL: no shutdown hooks, no H2 close (Process.destroy would close our pipe)
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            // acks printed between our last read and the kill count too
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ack ")) lastAck = Long.parseLong(line.substring(4));
            }
        }
        assertThat(lastAck).as("the child wrote before it was killed").isGreaterThanOrEqualTo(target);
        try (Store s = Store.open(dir)) {
            try (StoreTx tx = s.begin("crash")) {
                for (long i = 0; i <= lastAck; i++) {
                    assertThat(tx.get("k", Long.toString(i))).as("acknowledged write %d", i).isNotNull();
                }
                long last = Long.parseLong(tx.get("counter", "last"));
                assertThat(last).isGreaterThanOrEqualTo(lastAck);
                // the change log and the documents agree: one change per committed transaction
                assertThat(s.lastLsn()).isEqualTo(last + 1);
                assertThat(tx.count("k", "")).isEqualTo(last + 1);
            }
            assertThat(s.changesAfter(0, Integer.MAX_VALUE)).hasSize((int) s.lastLsn());
        }
    }
}
