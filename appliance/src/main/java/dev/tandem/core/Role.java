package dev.tandem.core;

/** A node's role in its group (names as in BlueCat Gateway's availability groups). Witnesses report WITNESS. */
public enum Role {
    PRIMARY, SECONDARY, NOT_IN_GROUP, WITNESS
}
