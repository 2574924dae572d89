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

    /** {@code clientTimeout}: how long a connection may go without sending a complete request (headers and body) before it is closed. */
    /** {@code metricsPublic}: /metrics answers without a token (default: it needs one, like /api/v1). */
    public record Http(Address bind, Path tlsCert, Path tlsKey, Path tlsCa, boolean forwardToPrimary, long bodyLimit, Duration clientTimeout,
                       boolean metricsPublic) {
        /** The certificates this node trusts when it calls a peer over HTTPS: http.tls.ca, else its own certificate. */
        public Path trustedCerts() {
            return tlsCa != null ? tlsCa : tlsCert;
        }

        public boolean tls() {
            return tlsCert != null && tlsKey != null;
        }
    }

    /** {@code commands}: name -> argument vector, the host programs workflows may run (empty: none). */
    public record Workflows(Path dir, Duration hookTimeout, java.util.Map<String, List<String>> commands,
                            Duration requestTimeout, Duration loadTimeout) {
        public Workflows(Path dir, Duration hookTimeout, java.util.Map<String, List<String>> commands) {
            this(dir, hookTimeout, commands, Duration.ofSeconds(30), Duration.ofSeconds(30));
        }
    }

    public boolean isWitness() {
        return node.kind() == Kind.WITNESS;
    }
}
