package dev.tandem.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.protocols.DISCARD;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault injection for tests, on a channel built with JGroups' DISCARD protocol (see {@code -Dtandem.faults}):
 * drops every message from the named peers until {@link #heal()}. Call it on both sides for a full
 * partition. A node started without it has none: {@link #of} answers null.
 */
public final class FaultInjection {
    private static final Logger log = LoggerFactory.getLogger(FaultInjection.class);
    private final JChannel channel;
    private final DISCARD discard;

    private FaultInjection(JChannel channel, DISCARD discard) {
        this.channel = channel;
        this.discard = discard;
    }

    /** The fault injection of {@code channel}, or null when it was built without (production). */
    public static FaultInjection of(JChannel channel) {
        DISCARD d = channel.getProtocolStack().findProtocol(DISCARD.class);
        return d == null ? null : new FaultInjection(channel, d);
    }

    /** Drops every message from the named peers; returns the names it found in the current view. */
    public List<String> isolateFrom(Collection<String> names) {
        List<String> found = new ArrayList<>();
        View v = channel.getView();
        for (Address a : v == null ? List.<Address>of() : v.getMembers()) {
            String n = GroupChannel.name(a);
            if (names.contains(n)) {
                discard.addIgnoreMember(a);
                found.add(n);
            }
        }
        log.warn("FAULT INJECTION: dropping every message from {}", found);
        return found;
    }

    /** Ends {@link #isolateFrom}. */
    public void heal() {
        discard.resetIgnoredMembers();
        log.warn("FAULT INJECTION: healed");
    }
}
