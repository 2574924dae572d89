package dev.tandem.api;

/** A node's role in its availability group (BlueCat Gateway's names). A witness reports {@code WITNESS}. */
public enum NodeRole {
    PRIMARY, SECONDARY, NOT_IN_GROUP, WITNESS
}
