package dev.tandem.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The write-path breakdown on a real sync pair (two node processes and a witness, flight recordings started and
 * stopped with jcmd): only the writes after the warm-up are traced, every traced write has every stage, and the stages of each write come in the order sync
 * replication promises. The secondary's stamps and the primary's are one clock (CLOCK_MONOTONIC), so a write
 * answered before the secondary applied it would show here.
 */
class BreakdownTest {
    @Test
    void aSyncPairsWritesAreReleasedOnlyAfterTheSecondaryAppliedThem_stageByStage() throws Exception {
        Path dir = Files.createTempDirectory("tandem-breakdown-test-");
        boolean passed = false;
        try {
            BreakdownBench.Timeline t = BreakdownBench.run("pair", dir, 5, 3, 1, 0);
            System.out.print(t.render("pair"));
            assertThat(t.writes).as("writes traced").isGreaterThan(5);
            assertThat(t.incomplete).as("writes without every stage (the recording's first and last)").isLessThanOrEqualTo(2);
            // the recording runs through the 5 s warm-up too; only the writes of the 3 measured seconds count
            double measured = t.client.perSecond() * 3;
            assertThat((double) t.writes).as("writes traced, against the %.0f the client made after the warm-up (%s)", measured, t.client.tool())
                    .isBetween(measured * 0.75 - 5, measured * 1.25 + 5);
            for (Map<String, Long> w : t.writesAt) {
                String write = "the write " + w + " (in " + dir + ")";
                // each stamp below is taken before the hand-over to the next (a send's return is not: the other
                // side may have received it first)
                assertThat(w.get("H2 commit done (primary)")).as(write).isLessThanOrEqualTo(w.get("ship started (encode + send)"));
                assertThat(w.get("ship started (encode + send)")).as(write).isLessThanOrEqualTo(w.get("secondary received it"));
                assertThat(w.get("secondary received it")).as(write).isLessThanOrEqualTo(w.get("secondary apply started"));
                assertThat(w.get("secondary apply started")).as(write).isLessThanOrEqualTo(w.get("secondary applied and committed"));
                assertThat(w.get("secondary applied and committed")).as(write).isLessThanOrEqualTo(w.get("primary received the ack"));
                assertThat(w.get("primary received the ack")).as("sync: released after the secondary applied it: " + write).isLessThanOrEqualTo(w.get("HTTP side has durable"));
                assertThat(w.get("HTTP side has durable")).as(write).isLessThanOrEqualTo(w.get("answer written"));
            }
            assertThat(t.rows()).extracting(BreakdownBench.Timeline.Row::stage).contains("secondary applied and committed", "answer written");
            passed = true;
        } finally {
            if (passed) CampaignBench.deleteTree(dir); // else the recordings and node logs are there to read
        }
    }
}
