package dev.tandem.events;

import dev.tandem.api.EventId;
import dev.tandem.api.GroupEvent;
import dev.tandem.api.NodeRole;
import dev.tandem.api.NodeRoleChanged;
import dev.tandem.api.TandemListener;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Java extensions found with ServiceLoader; each gets events one at a time, in order, on its own thread. */
final class Extensions implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Extensions.class);

    private record Loaded(TandemListener listener, ExecutorService thread) {}

    private final List<Loaded> loaded = new ArrayList<>();

    Extensions() {
        for (TandemListener l : ServiceLoader.load(TandemListener.class)) {
            String name = l.getClass().getName();
            loaded.add(new Loaded(l, dev.tandem.util.Threads.single("extension-" + name)));
            log.info("Java extension loaded: {}", name);
        }
    }

    void roleChanged(NodeRole previous, NodeRole now, long term, String reason) {
        NodeRoleChanged change = new NodeRoleChanged(previous, now, term, reason);
        for (Loaded l : loaded) l.thread().execute(() -> call(l, () -> l.listener().onRoleChanged(change)));
    }

    void event(EventId id, JsonObject data) {
        GroupEvent e = new GroupEvent(id, data.getMap());
        for (Loaded l : loaded) l.thread().execute(() -> call(l, () -> l.listener().onEvent(e)));
    }

    private static void call(Loaded l, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.error("Java extension {} failed (it keeps getting events)", l.listener().getClass().getName(), e);
        }
    }

    @Override
    public void close() {
        loaded.forEach(l -> l.thread().shutdownNow());
    }
}
