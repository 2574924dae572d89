package dev.tandem.workflows;

import java.util.Map;

/** An HTTP request as a workflow route sees it; {@code body} is already known to be valid JSON or empty. */
public record WorkflowRequest(String method, String path, Map<String, String> query, Map<String, String> headers,
                              String body, String user) {}
