package dev.tandem.events;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What happened on this node, newest last: role changes (term, reason, duration), hook runs (outcome,
 * duration, output), peers joined and lost, replication degraded and restored, divergence preserved,
 * maintenance. Bounded (the oldest events go first); ids only grow.
 */
public final class EventLog {
    private static final int CAPACITY = 10_000;
    private final Deque<JsonObject> events = new ArrayDeque<>();
    private final List<Consumer<JsonObject>> subscribers = new CopyOnWriteArrayList<>();
    private long nextId = 1;

    public JsonObject append(String type, JsonObject data) {
        JsonObject e;
        synchronized (events) {
            e = new JsonObject().put("id", nextId++).put("time", System.currentTimeMillis()).put("type", type).put("data", data);
            events.addLast(e);
            if (events.size() > CAPACITY) events.removeFirst();
        }
        for (Consumer<JsonObject> s : subscribers) s.accept(e);
        return e;
    }

    /** Up to {@code limit} events with an id above {@code after}, oldest first. */
    public JsonArray after(long after, int limit) {
        JsonArray out = new JsonArray();
        synchronized (events) {
            for (JsonObject e : events) {
                if (e.getLong("id") > after && out.size() < limit) out.add(e);
            }
        }
        return out;
    }

    public Runnable subscribe(Consumer<JsonObject> s) {
        subscribers.add(s);
        return () -> subscribers.remove(s);
    }
}
