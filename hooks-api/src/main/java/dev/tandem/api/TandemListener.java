package dev.tandem.api;

/**
 * An in-process Java extension, found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/dev.tandem.api.TandemListener} of a jar on the node's class path).
 * Calls come one at a time, in order, on the extension's own thread; never on the HTTP event loop
 * nor on the path that decides a promotion. A call that throws is logged and the next event still
 * comes.
 */
public interface TandemListener {
    /** Every event of the group, NODE_ROLE_CHANGED included. */
    default void onEvent(GroupEvent event) {}

    /** This node's role changed (also called once at start with {@code previous == null}). */
    default void onRoleChanged(NodeRoleChanged change) {}
}
