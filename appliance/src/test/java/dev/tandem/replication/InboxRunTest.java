package dev.tandem.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/** How the secondary groups queued messages: consecutive change batches of one sender and term go into one apply. */
class InboxRunTest {
    static Replication.Inbound changes(String from, long term, long... lsns) {
        JsonArray a = new JsonArray();
        for (long l : lsns) a.add(new JsonArray().add(l).add(term).add(0L).add("[]"));
        return new Replication.Inbound(from, new JsonObject().put("type", "repl.changes").put("from", from).put("term", term)
                .put("primaryLsn", lsns.length == 0 ? 0 : lsns[lsns.length - 1]).put("changes", a));
    }

    static Replication.Inbound other(String from, String type) {
        return new Replication.Inbound(from, new JsonObject().put("type", type).put("from", from));
    }

    static List<List<Replication.Inbound>> drain(Queue<Replication.Inbound> q, int max) {
        List<List<Replication.Inbound>> runs = new java.util.ArrayList<>();
        for (var r = Replication.nextRun(q, max); !r.isEmpty(); r = Replication.nextRun(q, max)) runs.add(r);
        return runs;
    }

    @Test
    void consecutiveBatchesOfOneSenderAndTermAreOneRun() {
        var b1 = changes("a", 3, 1, 2);
        var b2 = changes("a", 3, 3);
        var b3 = changes("a", 3, 4, 5);
        Queue<Replication.Inbound> q = new ArrayDeque<>(List.of(b1, b2, b3));
        assertThat(drain(q, 4096)).containsExactly(List.of(b1, b2, b3));
    }

    @Test
    void otherMessagesEmptyBatchesNewTermsAndOtherSendersKeepTheirPlace() {
        var b1 = changes("a", 3, 1);
        var ack = other("a", "repl.ack");
        var b2 = changes("a", 3, 2);
        var idle = changes("a", 3);
        var b3 = changes("a", 3, 3);
        var newTerm = changes("a", 4, 4);
        var otherSender = changes("b", 4, 5);
        var snapshot = other("a", "repl.snapshot");
        Queue<Replication.Inbound> q = new ArrayDeque<>(List.of(b1, ack, b2, idle, b3, newTerm, otherSender, snapshot));
        assertThat(drain(q, 4096)).containsExactly(List.of(b1), List.of(ack), List.of(b2), List.of(idle), List.of(b3),
                List.of(newTerm), List.of(otherSender), List.of(snapshot));
    }

    @Test
    void aRunStopsOnceItHoldsEnoughChanges() {
        var b1 = changes("a", 1, 1, 2);
        var b2 = changes("a", 1, 3, 4);
        var b3 = changes("a", 1, 5, 6);
        Queue<Replication.Inbound> q = new ArrayDeque<>(List.of(b1, b2, b3));
        assertThat(drain(q, 4)).containsExactly(List.of(b1, b2), List.of(b3));
    }
}
