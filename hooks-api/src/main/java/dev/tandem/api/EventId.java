package dev.tandem.api;

/** The events a workflow or extension can subscribe to (SPEC 6). */
public enum EventId {
    NODE_ROLE_CHANGED, PEER_JOINED, PEER_LOST, REPLICATION_DEGRADED, REPLICATION_RESTORED, DIVERGENCE_PRESERVED, MAINTENANCE_CHANGED
}
