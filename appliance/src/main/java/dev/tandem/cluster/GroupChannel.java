package dev.tandem.cluster;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group's one channel (built by {@link ClusterChannel}), shared by the membership protocol and
 * replication. A message is a JSON object with a {@code type}; a type {@code topic.name} goes to the handler
 * of that topic (replication's: {@code repl}), any other to the handler of the group protocol
 * ({@link #GROUP}). Handlers and view listeners run on JGroups' receiving thread, one message at a time per
 * sender and in the order it sent them: they must only hand the work to their own thread. What is not a
 * JSON object is dropped here, logged once a minute per sender.
 */
public final class GroupChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupChannel.class);
    /** The topic of the group protocol's messages (their types have no dot). */
    public static final String GROUP = "";

    /** A message for a topic's handler; {@code sender} is the member's name in the group. */
    public interface Handler {
        void receive(String sender, JsonObject message);
    }

    /** A view of the group: its members by name, and whether this member coordinates it. */
    public record View(List<String> members, boolean coordinator, String coordinatorAddress) {}

    private final JChannel channel;
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    private final List<Consumer<View>> viewListeners = new CopyOnWriteArrayList<>();
    private final OncePerMinute logLimit = new OncePerMinute();

    public GroupChannel(JChannel channel) {
        this.channel = channel;
        channel.setReceiver(new Receiver() {
            @Override
            public void receive(Message msg) {
                onReceive(msg);
            }

            @Override
            public void viewAccepted(org.jgroups.View v) {
                List<String> names = v.getMembers().stream().map(GroupChannel::name).toList();
                boolean coordinator = channel.getAddress() != null && channel.getAddress().equals(v.getCoord());
                View view = new View(names, coordinator, String.valueOf(v.getCoord()));
                for (Consumer<View> l : viewListeners) {
                    try {
                        l.accept(view);
                    } catch (RuntimeException e) {
                        log.debug("group: a view was not taken (the node is closing?): {}", e.toString());
                    }
                }
            }
        });
    }

    /** Messages of {@code topic} go to {@code handler} from now on (one handler per topic). */
    public void subscribe(String topic, Handler handler) {
        handlers.put(topic, handler);
    }

    /** Every view from now on goes to {@code listener}. */
    public void onView(Consumer<View> listener) {
        viewListeners.add(listener);
    }

    /** Joins the group named {@code cluster}; returns once connected. */
    public void connect(String cluster) throws Exception {
        channel.connect(cluster);
    }

    /**
     * Sends {@code m} to the member named {@code to}, or to every member when {@code to} is null (reliable, in
     * order, encrypted). Dropped when {@code to} is not in the view; never throws.
     */
    public void send(String to, JsonObject m) {
        Address a = null;
        if (to != null) {
            a = addressOf(to);
            if (a == null) return;
        }
        try {
            channel.send(new BytesMessage(a, m.encode().getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            log.debug("send {} failed: {}", m.getValue("type"), e.toString());
        }
    }

    /** Fault injection when the channel was built with it (tests), else null. */
    public FaultInjection faults() {
        return FaultInjection.of(channel);
    }

    /** The JGroups channel underneath, for tests that look at its stack. */
    public JChannel jgroups() {
        return channel;
    }

    private void onReceive(Message msg) {
        String sender = name(msg.getSrc());
        JsonObject m;
        try {
            m = new JsonObject(new String(msg.getArray(), msg.getOffset(), msg.getLength(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            if (logLimit.allow("malformed:" + sender)) {
                log.warn("group: dropped a malformed message from {} ({} bytes): {}; more from it are dropped quietly for a minute",
                        sender, msg.getLength(), e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage()));
            }
            return;
        }
        String type = m.getValue("type") instanceof String t ? t : "";
        int dot = type.indexOf('.');
        // a topic nobody subscribed to goes to the group protocol, whose codec reports what is wrong with it
        Handler h = dot < 0 ? null : handlers.get(type.substring(0, dot));
        if (h == null) h = handlers.get(GROUP);
        if (h == null) return;
        try {
            h.receive(sender, m);
        } catch (RuntimeException e) {
            // a handler only queues the message; it fails when its thread has stopped (the node is closing)
            if (logLimit.allow("handler:" + e.getClass().getName())) log.debug("group: a message from {} was not taken: {}", sender, e.toString());
        }
    }

    private Address addressOf(String member) {
        org.jgroups.View v = channel.getView();
        if (v == null) return null;
        for (Address a : v.getMembers()) {
            if (member.equals(name(a))) return a;
        }
        return null;
    }

    static String name(Address a) {
        String n = NameCache.get(a);
        return n != null ? n : String.valueOf(a);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) : line;
    }

    @Override
    public void close() {
        channel.close();
    }
}
