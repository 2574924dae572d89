package dev.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.api.NodeRole;
import dev.tandem.core.GroupMessage;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire form of the group's messages: every kind survives the trip, and a bad one is refused with the reason. */
class GroupCodecTest {
    static final List<GroupMessage> ALL = List.of(
            new GroupMessage.Status("node-a", false, 100, NodeRole.PRIMARY, 7, 6, 1234, "http://127.0.0.1:8080", "127.0.0.1:7800", true, 3, 99),
            new GroupMessage.Status("witness", true, 0, NodeRole.WITNESS, 7, 0, 0, null, null, false, 0, 5),
            new GroupMessage.Ack("node-b", 7, 99),
            new GroupMessage.Nominate("node-b", 8, "primary node-a lost"),
            new GroupMessage.RequestVote("node-b", 8, 90, 7, 1234, 120),
            new GroupMessage.Vote("witness", 8, false, "already voted in term 8", 120),
            new GroupMessage.Resign("node-a", 7),
            new GroupMessage.Switchover("node-b", null, "id-1"),
            new GroupMessage.SwitchoverDone("id-1", true, "node-b is primary", "node-b", 230),
            new GroupMessage.Maintenance("node-a", true, 4));

    @Test
    void everyMessageSurvivesTheWire() throws Exception {
        for (GroupMessage m : ALL) {
            JsonObject wire = new JsonObject(GroupCodec.encode(m).encode());
            assertThat(GroupCodec.decode(wire)).isEqualTo(m);
        }
    }

    @Test
    void theWireNamesAreThoseEarlierVersionsUse() {
        // a rolling upgrade has members of two versions in one group: the keys must not move
        assertThat(GroupCodec.encode(ALL.get(0)).fieldNames()).containsExactlyInAnyOrder("type", "name", "witness", "priority", "role",
                "term", "lastTerm", "lsn", "http", "addr", "maint", "mver", "sentAt");
        assertThat(GroupCodec.encode(ALL.get(4)).fieldNames()).containsExactlyInAnyOrder("type", "candidate", "term", "priority",
                "lastTerm", "lsn", "sentAt");
        assertThat(GroupCodec.encode(ALL.get(5)).getString("type")).isEqualTo("vote");
    }

    @Test
    void aBadMessageIsRefusedWholeWithWhatIsWrong() {
        JsonObject status = GroupCodec.encode(ALL.get(0));
        assertThatThrownBy(() -> GroupCodec.decode(status.copy().put("term", "seven")))
                .isInstanceOf(GroupCodec.BadMessage.class).hasMessage("status: field 'term' is not a number");
        assertThatThrownBy(() -> GroupCodec.decode(status.copy().put("role", "KING")))
                .isInstanceOf(GroupCodec.BadMessage.class).hasMessage("status: role 'KING' is not a role");
        JsonObject noName = status.copy();
        noName.remove("name");
        assertThatThrownBy(() -> GroupCodec.decode(noName)).hasMessage("status: field 'name' is missing");
        assertThatThrownBy(() -> GroupCodec.decode(new JsonObject().put("type", "vote").put("from", "x").put("term", 1).put("granted", "yes")
                .put("sentAt", 1))).hasMessage("vote: field 'granted' is not true or false");
        assertThatThrownBy(() -> GroupCodec.decode(new JsonObject().put("type", "coup"))).hasMessage("unknown message type 'coup'");
        assertThatThrownBy(() -> GroupCodec.decode(new JsonObject())).hasMessage("a message: field 'type' is missing");
    }
}
