package dev.tandem.campaign;

import dev.tandem.harness.NodeProcess;
import dev.tandem.harness.ProcessGroup;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Transfers between accounts, each one transaction with its own id. At the end of a round, on every data
 * node: the total is what the accounts were opened with; every acknowledged transfer of the round is there
 * (or was reported divergent), no refused one is; and the balances are exactly the opening balances moved
 * by the transfers the node holds, each once.
 */
final class BankWorkload implements Workload {
    static final int ACCOUNTS = 20, BALANCE = 1000;
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    /** What each transfer id asked for: {from, to, amount}. */
    private final Map<String, int[]> sent = new ConcurrentHashMap<>();
    private final Set<String> everApplied = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
        return "bank";
    }

    @Override
    public void setUp(NodeProcess primary) {
        Campaigns.postUntilCreated(primary, "/workflows/bank/accounts",
                new JsonObject().put("accounts", ACCOUNTS).put("balance", BALANCE).encode());
    }

    @Override
    public void beginRound(int round, NodeProcess primary) {}

    @Override
    public Op step(History history, int client, NodeProcess via, Random random, int round) {
        int from = random.nextInt(ACCOUNTS), to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS, amount = 1 + random.nextInt(50);
        String id = "r" + round + "-c" + client + "-" + random.nextInt(Integer.MAX_VALUE);
        sent.put(id, new int[] {from, to, amount});
        return history.call(name(), client, via.name, via.url() + "/workflows/bank/transfers", id, "POST", new JsonObject().put("id", id)
                .put("from", account(from)).put("to", account(to)).put("amount", amount).encode(), TIMEOUT);
    }

    static String account(int i) {
        return String.format("a%03d", i);
    }

    @Override
    public void check(int round, List<NodeProcess> dataNodes, List<Op> ops, Divergence divergence, List<String> violations) {
        Map<String, Op> byId = new HashMap<>();
        for (Op o : ops) if (o.workload().equals(name())) byId.put(o.key(), o);
        Set<String> first = null;
        for (NodeProcess n : dataNodes) {
            JsonObject acc = ProcessGroup.getJsonOk(n, "/workflows/bank/accounts", Duration.ofSeconds(20));
            long total = acc.getLong("total");
            if (total != (long) ACCOUNTS * BALANCE) violations.add("bank: the total on " + n.name + " is " + total + ", not " + ACCOUNTS * BALANCE);
            Set<String> held = new HashSet<>();
            for (Object x : ProcessGroup.getJsonOk(n, "/workflows/bank/transfers?prefix=r" + round + "-", Duration.ofSeconds(20)).getJsonArray("transfers")) {
                held.add((String) x);
            }
            if (first == null) first = held;
            else if (!first.equals(held)) violations.add("bank: the data nodes hold different transfers of round " + round + " after converging");
            for (String id : held) {
                Op op = byId.get(id);
                if (op == null) violations.add("bank: " + n.name + " holds transfer " + id + ", which no client sent in round " + round);
                else if (op.outcome() == Op.Outcome.FAIL) violations.add("bank: " + n.name + " applied a refused transfer: " + op);
            }
            for (Op op : byId.values()) {
                if (op.outcome() != Op.Outcome.OK || held.contains(op.key())) continue;
                if (op.servedBy() != null && divergence.preserved(op.servedBy(), op.term(), op.lsn())) continue;
                violations.add("bank: an acknowledged transfer is missing on " + n.name + " and was not reported as divergent: " + op);
            }
            // the balances are the opening ones moved by exactly the transfers the node holds (earlier rounds' and
            // this one's), each once
            long[] expected = new long[ACCOUNTS];
            java.util.Arrays.fill(expected, BALANCE);
            Set<String> all = new HashSet<>(everApplied);
            all.addAll(held);
            for (String id : all) {
                int[] t = sent.get(id);
                if (t == null) continue; // reported above
                expected[t[0]] -= t[2];
                expected[t[1]] += t[2];
            }
            JsonObject balances = acc.getJsonObject("accounts");
            for (int i = 0; i < ACCOUNTS; i++) {
                long has = balances.getLong(account(i), -1L);
                if (has != expected[i]) {
                    violations.add("bank: " + account(i) + " on " + n.name + " holds " + has + "; the transfers it holds make it " + expected[i]
                            + " (a transfer lost from the balances, or applied twice)");
                    break;
                }
            }
        }
        if (first != null) everApplied.addAll(first);
    }
}
