package dev.tandem.workflows;

import java.util.Map;

/**
 * What a route produced. {@code lsn} is the last LSN the route committed (0 when it wrote nothing):
 * the HTTP layer acknowledges the request only once that LSN is as durable as the replication mode promises.
 * {@code traceback} is set when the route raised; it goes to the log, never to the client.
 */
public record WorkflowResponse(int status, String body, Map<String, String> headers, String traceback, long lsn) {}
