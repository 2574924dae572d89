package dev.tandem.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The resolved, validated configuration of one node (SPEC section 3). Built only by {@link ConfigLoader}. */
public record TandemConfig(Node node, Group group, Replication replication, Http http, Workflows workflows) {

    public enum Kind { DATA, WITNESS }

    public enum Quorum { MAJORITY, NONE }

    public enum ReplicationMode { SYNC, ASYNC }

    public record Address(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    public record Node(String name, Kind kind, int priority, Path dataDir) {}

    public record Group(String name, Address bind, List<Address> members, Path secretFile, Quorum quorum,
                        boolean preempt, Duration heartbeatInterval, Duration failureTimeout) {}

    public record Replication(ReplicationMode mode, Duration syncTimeout, boolean strict, boolean fsync,
                              int logRetention) {}

    public record Http(Address bind, Path tlsCert, Path tlsKey, boolean forwardToPrimary, long bodyLimit) {}

    /** {@code commands}: name -> argument vector, the host programs workflows may run (empty: none). */
    public record Workflows(Path dir, Duration hookTimeout, java.util.Map<String, List<String>> commands) {}

    public boolean isWitness() {
        return node.kind() == Kind.WITNESS;
    }
}
