package dev.tandem.workflows;

import java.util.Map;

/**
 * What a route produced. {@code lsn} is the last LSN the route committed (0 when it wrote nothing), and
 * {@code term} the term that change carries: the HTTP layer acknowledges the request only once that LSN is
 * as durable as the replication mode promises, and says which change it acknowledged (X-Tandem-Commit).
 * {@code traceback} is set when the route raised; it goes to the log, never to the client.
 */
public record WorkflowResponse(int status, String body, Map<String, String> headers, String traceback, long lsn, long term) {}
