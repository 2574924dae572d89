package dev.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.api.NodeRole;
import dev.tandem.core.GroupState;
import dev.tandem.core.MemberState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which members a sync write may still wait for ({@link GroupMember#dataPeers}): a data node of the view that has
 * been silent since {@code since} (frozen, not yet dropped by failure detection) is none of them.
 */
class DataPeersTest {
    static GroupState.Peer peer(String name, boolean witness, long heardAt) {
        return new GroupState.Peer(new MemberState(name, witness, 0, witness ? NodeRole.WITNESS : NodeRole.SECONDARY, 3, 3, 10),
                "addr-" + name, null, heardAt, false, 0);
    }

    @Test
    void aDataPeerSilentSinceTheCutIsLeftOut_aLiveOneAndOneNotHeardYetStay_witnessesNever() {
        List<String> view = List.of("witness", "me", "frozen", "live", "new");
        Map<String, GroupState.Peer> peers = Map.of("witness", peer("witness", true, 5_000), "frozen", peer("frozen", false, 3_900),
                "live", peer("live", false, 4_950));
        assertThat(GroupMember.dataPeers(view, peers, "me", Long.MIN_VALUE)).as("in the view, heard or not")
                .containsExactly("frozen", "live", "new");
        assertThat(GroupMember.dataPeers(view, peers, "me", 4_000)).as("heard from at or after 4,000 ms, or not heard from yet")
                .containsExactly("live", "new");
        assertThat(GroupMember.dataPeers(List.of("witness", "me", "frozen"), peers, "me", 4_000)).as("a primary whose only secondary froze")
                .isEmpty();
        assertThat(GroupMember.dataPeers(List.of("me", "frozen"), peers, "me", 3_900)).as("heard at exactly the bound").containsExactly("frozen");
    }
}
