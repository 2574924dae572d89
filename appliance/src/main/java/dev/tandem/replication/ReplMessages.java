package dev.tandem.replication;

import dev.tandem.store.Change;
import dev.tandem.store.Snapshot;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Replication's messages on the group channel (topic {@code repl}), built and read in one place:
 * {@code repl.hello} (secondary: "I have up to lsn, written in term"), {@code repl.changes} (a batch, in
 * LSN order, with the primary's term and last LSN), {@code repl.ack} / {@code repl.nack} (applied up to /
 * refused: older term), {@code repl.history} (the primary's term ranges, when a hello does not match its
 * log), {@code repl.resync} and {@code repl.snapshot} (a full copy, in parts, when the log does not reach
 * back or after divergence). Every message names its sender in {@code from}.
 */
final class ReplMessages {
    static final String TOPIC = "repl";
    static final String HELLO = "repl.hello", CHANGES = "repl.changes", ACK = "repl.ack", NACK = "repl.nack", HISTORY = "repl.history",
            RESYNC = "repl.resync", SNAPSHOT = "repl.snapshot";

    private ReplMessages() {}

    private static JsonObject of(String type, String from) {
        return new JsonObject().put("type", type).put("from", from);
    }

    static JsonObject hello(String from, long lsn, long lsnTerm) {
        return of(HELLO, from).put("lsn", lsn).put("term", lsnTerm);
    }

    static JsonObject changes(String from, long term, long primaryLsn, List<Change> batch) {
        JsonArray changes = new JsonArray();
        for (Change c : batch) changes.add(new JsonArray().add(c.lsn()).add(c.term()).add(c.timestamp()).add(c.ops()));
        return of(CHANGES, from).put("term", term).put("primaryLsn", primaryLsn).put("changes", changes);
    }

    /** The changes of one or more {@code repl.changes} messages, in order. */
    static List<Change> changesOf(List<JsonObject> messages) {
        List<Change> batch = new ArrayList<>();
        for (JsonObject one : messages) {
            JsonArray arr = one.getJsonArray("changes");
            for (int i = 0; i < arr.size(); i++) {
                JsonArray c = arr.getJsonArray(i);
                batch.add(new Change(c.getLong(0), c.getLong(1), c.getLong(2), c.getString(3)));
            }
        }
        return batch;
    }

    /** A {@code repl.changes} message with at least one change (an empty one is the idle stream's "where I am"). */
    static boolean isChanges(JsonObject m) {
        return CHANGES.equals(m.getValue("type")) && m.getValue("changes") instanceof JsonArray c && !c.isEmpty();
    }

    static JsonObject ack(String from, long lsn) {
        return of(ACK, from).put("lsn", lsn);
    }

    static JsonObject nack(String from, long term, String reason) {
        return of(NACK, from).put("term", term).put("reason", reason);
    }

    static JsonObject history(String from, List<long[]> termRanges) {
        JsonArray ranges = new JsonArray();
        for (long[] r : termRanges) ranges.add(new JsonArray().add(r[0]).add(r[1]).add(r[2]));
        return of(HISTORY, from).put("ranges", ranges);
    }

    static JsonObject resync(String from) {
        return of(RESYNC, from);
    }

    static JsonObject snapshotPart(String from, long term, Snapshot snap, int part, int parts, List<Snapshot.Doc> docs) {
        JsonArray list = new JsonArray();
        for (Snapshot.Doc d : docs) list.add(new JsonArray().add(d.ns()).add(d.coll()).add(d.key()).add(d.value()));
        return of(SNAPSHOT, from).put("term", term).put("lsn", snap.lsn()).put("lsnTerm", snap.term()).put("part", part).put("parts", parts)
                .put("docs", list);
    }

    static List<Snapshot.Doc> docsOf(JsonObject snapshotPart) {
        List<Snapshot.Doc> docs = new ArrayList<>();
        for (Object o : snapshotPart.getJsonArray("docs")) {
            JsonArray d = (JsonArray) o;
            docs.add(new Snapshot.Doc(d.getString(0), d.getString(1), d.getString(2), d.getString(3)));
        }
        return docs;
    }
}
