package dev.tandem.campaign;

import io.vertx.core.json.JsonObject;

/**
 * One request of a workload, as the client saw it. {@code invoke} and {@code complete} are the client's
 * clock (System.nanoTime) before sending and after the answer (or the failure). {@code servedBy},
 * {@code term} and {@code lsn} come from the answer's X-Tandem-Commit header: which node acknowledged
 * the change, under which term, at which LSN.
 */
public record Op(long id, String workload, int client, String via, String key, long invoke, long complete, Outcome outcome,
                 int status, String servedBy, long term, long lsn, String detail) {

    public enum Outcome {
        /** Acknowledged (2xx): the change must survive every fault. */
        OK,
        /** Certainly not applied: the route refused it (4xx), or no connection was made. */
        FAIL,
        /** Maybe applied: a timeout, a reset connection, or a 503 (the node could not confirm it). */
        UNKNOWN
    }

    /** Whether this failure was the client's bad luck (it called a node that was down or frozen), not the group's doing. */
    public boolean calledAnUnreachableNode() {
        return outcome != Outcome.OK && status == -1;
    }

    public long durationMillis() {
        return (complete - invoke) / 1_000_000;
    }

    public JsonObject toJson(long t0) {
        return new JsonObject().put("id", id).put("workload", workload).put("client", client).put("via", via).put("key", key)
                .put("invoke_ms", (invoke - t0) / 1e6).put("complete_ms", (complete - t0) / 1e6).put("outcome", outcome.name())
                .put("status", status).put("served_by", servedBy).put("term", term).put("lsn", lsn).put("detail", detail);
    }

    @Override
    public String toString() {
        return String.format("#%d %s %s via %s: %s %d%s%s (%d ms)%s", id, workload, key, via, outcome, status,
                servedBy == null ? "" : " by " + servedBy, term == 0 ? "" : " term " + term + " lsn " + lsn, durationMillis(),
                detail == null || detail.isEmpty() ? "" : " " + detail);
    }
}
