package dev.tandem.api;

import java.util.Map;

/** Any event of the group, with its data (for NODE_ROLE_CHANGED: previous, new, term, reason). */
public record GroupEvent(EventId id, Map<String, Object> data) {}
