package dev.tandem.replication;

import dev.tandem.cluster.GroupChannel;
import dev.tandem.cluster.GroupMember;
import dev.tandem.config.TandemConfig;
import dev.tandem.events.EventSink;
import dev.tandem.store.Replica;
import dev.tandem.store.Store;
import io.vertx.core.json.JsonObject;

/** What both sides of replication work with: this node's store, its role in the group, the channel to the peer, the event sink. */
record Link(TandemConfig config, Store store, Replica replica, GroupMember group, GroupChannel channel, EventSink events, String me) {
    void send(String to, JsonObject m) {
        channel.send(to, m);
    }
}
