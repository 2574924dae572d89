package dev.tandem.events;

import dev.tandem.api.EventId;
import io.vertx.core.json.JsonObject;

/** Where a part of the node reports an event of the hooks API (the node's is {@link NodeEvents}). */
@FunctionalInterface
public interface EventSink {
    void publish(EventId id, JsonObject data);
}
