package dev.tandem.campaign;

import dev.tandem.harness.NodeProcess;
import java.util.List;
import java.util.Random;

/** What the campaign's clients do, and what must be true of it at the end of a round. */
interface Workload {
    String name();

    /** Once, on a group with a primary. */
    void setUp(NodeProcess primary);

    /** Before the round's clients start (a fresh pool, a fresh id prefix). */
    void beginRound(int round, NodeProcess primary);

    /** One request by {@code client} through {@code via}, recorded in {@code history}. */
    Op step(History history, int client, NodeProcess via, Random random, int round);

    /**
     * With the clients stopped and every node converged: the workload's rules over what {@code dataNodes}
     * hold and what the clients saw in this round ({@code ops}, every outcome). Each broken rule is added
     * to {@code violations} with what shows it.
     */
    void check(int round, List<NodeProcess> dataNodes, List<Op> ops, Divergence divergence, List<String> violations);
}
