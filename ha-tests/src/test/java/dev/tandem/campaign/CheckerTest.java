package dev.tandem.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The campaign's history rules on histories made up to break them (and not to). */
class CheckerTest {
    static Op ack(String node, long term, long invokeMs, long completeMs) {
        return new Op(invokeMs, "ipam", 0, node, "k" + invokeMs, invokeMs * 1_000_000, completeMs * 1_000_000, Op.Outcome.OK, 201, node, term, invokeMs, "");
    }

    static List<String> g1(Op... ops) {
        List<String> v = new ArrayList<>();
        Checker.noTwoPrimaries(List.of(ops), v);
        return v;
    }

    @Test
    void oneAfterTheOtherIsFine_evenWhenTheOldPrimaryAnswersLateForWritesSentBeforeTheHandover() {
        assertThat(g1(ack("node-a", 1, 0, 5), ack("node-a", 1, 10, 15), ack("node-b", 2, 20, 25), ack("node-b", 2, 30, 35))).isEmpty();
        // node-a's last write was sent at 12, before node-b's first answer (25), and answered late (40): not an overlap
        assertThat(g1(ack("node-a", 1, 0, 5), ack("node-a", 1, 12, 40), ack("node-b", 2, 20, 25), ack("node-b", 2, 30, 35))).isEmpty();
        // the same node primary again in a later term is a new epoch, not an overlap with itself
        assertThat(g1(ack("node-a", 1, 0, 5), ack("node-b", 2, 10, 15), ack("node-a", 3, 20, 25))).isEmpty();
    }

    @Test
    void twoNodesAcknowledgingInOverlappingIntervalsIsCaught() {
        // node-b answered at 15, then node-a took a write sent at 20; and node-a answered at 5, then node-b took one sent at 10
        assertThat(g1(ack("node-a", 1, 0, 5), ack("node-b", 2, 10, 15), ack("node-a", 1, 20, 25)))
                .singleElement().asString().contains("overlapping intervals");
    }

    @Test
    void twoNodesAcknowledgingInOneTermIsCaught() {
        assertThat(g1(ack("node-a", 4, 0, 5), ack("node-b", 4, 100, 105))).anyMatch(v -> v.contains("both acknowledged writes in term 4"));
    }

    @Test
    void aSeedReplaysTheSameFaults() {
        assertThat(Fault.schedule(7, 20, true)).isEqualTo(Fault.schedule(7, 20, true));
        assertThat(Fault.schedule(7, 20, true)).isNotEqualTo(Fault.schedule(8, 20, true));
        assertThat(Fault.schedule(7, 50, false)).noneMatch(f -> f.target().equals("witness"));
    }
}
