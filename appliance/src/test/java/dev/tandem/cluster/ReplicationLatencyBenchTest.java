package dev.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** The short version of {@code bin/tandem-bench replication}: it runs, and prints a row per number of writers. */
class ReplicationLatencyBenchTest {
    @Test
    void runsWithFewWrites_andPrintsARowPerWriterCount() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            ReplicationLatencyBench.main(new String[] {"--writers", "1,4", "--writes", "200", "--warmup", "100"});
        } finally {
            System.setOut(original);
        }
        String text = out.toString();
        System.out.print(text);
        assertThat(text).contains("wait p50").containsPattern("(?m)^1 +\\d+").containsPattern("(?m)^4 +\\d+");
    }
}
