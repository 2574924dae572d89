package dev.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TandemCliTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        try {
            int exit = TandemCli.execute(args);
            return new Run(exit, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void checkConfigPrintsResolvedValuesTheirSourcesAndTheFailoverTime() throws Exception {
        Path f = dir.resolve("t.yaml");
        Files.writeString(f, "node:\n  name: node-b\ngroup:\n  secret_file: " + TestNode.secret(dir) + "\n");
        Run r = run("check-config", "--config", f.toString(), "--set", "node.priority=7");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("name:").contains("node-b").contains("t.yaml:2")
                .contains("priority:").contains("# --set")
                .contains("worst-case failover (primary frozen or cut off): 1200ms");
        assertThat(r.out().lines().filter(l -> l.matches("\\s+\\S+:\\s+\\?\\s+#.*")).toList()).as("every key shows its value").isEmpty();
        assertThat(r.out()).containsPattern("client_timeout:\\s+30s").containsPattern("load_timeout:\\s+30s").containsPattern("metrics_public:\\s+false");
    }

    @Test
    void badConfigurationExits2AndNamesTheKey() throws Exception {
        Path f = dir.resolve("t.yaml");
        Files.writeString(f, "node:\n  priority: 300\ngroup:\n  secret_file: " + TestNode.secret(dir) + "\n");
        for (String cmd : new String[] {"check-config", "run"}) {
            Run r = run(cmd, "--config", f.toString());
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("t.yaml:2: node.priority: 300 is out of range; use 0..255");
        }
    }

    @Test
    void badUsageExits2() {
        assertThat(run("frobnicate").exit()).isEqualTo(2);
        assertThat(run("run", "--no-such-option").exit()).isEqualTo(2);
    }

    @Test
    void everyCommandAnswersHelp() {
        for (String command : new String[] {"run", "demo", "status", "switchover", "maintenance", "check-config", "version"}) {
            Run r = run(command, "--help");
            assertThat(r.exit()).as(command + " --help: " + r.err()).isZero();
            assertThat(r.out()).as(command + " --help").contains("Usage: tandem " + command);
        }
    }

    @Test
    void versionPrints() {
        Run r = run("version");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("tandem ");
    }
}
