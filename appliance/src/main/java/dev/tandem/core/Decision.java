package dev.tandem.core;

/** What the deciding node should do now, and why (DESIGN practice 3: every decision carries a reason). */
public record Decision(Action action, String candidate, long term, String reason) {
    public enum Action {
        /** nothing to do */
        NONE,
        /** ask the group to make {@code candidate} primary of {@code term} */
        ELECT,
        /** the primary hands over to {@code candidate} (preempt) */
        HAND_OVER
    }

    static Decision none(String reason) {
        return new Decision(Action.NONE, null, 0, reason);
    }

    @Override
    public String toString() {
        return action == Action.NONE ? "no action: " + reason : action + " " + candidate + " term " + term + ": " + reason;
    }
}
