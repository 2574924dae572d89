package dev.tandem.http;

import java.util.concurrent.CompletableFuture;

/**
 * When a write may be acknowledged: the replication layer completes the future once {@code lsn}
 * is as durable as the configured mode promises (sync: applied by the secondary), or fails it
 * when the node may not acknowledge writes (not primary of the newest term, strict and degraded).
 */
public interface Durability {
    CompletableFuture<Void> awaitDurable(long lsn);
}
