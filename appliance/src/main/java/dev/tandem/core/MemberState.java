package dev.tandem.core;

import dev.tandem.api.NodeRole;
/**
 * What one member last said about itself (its status message), as a core input.
 *
 * @param term     the highest term this member has durably seen
 * @param lastTerm the term of this member's last change (data nodes; 0 for a witness)
 * @param lsn      this member's last change (applied or written)
 * @param role     the role it claims
 */
public record MemberState(String name, boolean witness, int priority, NodeRole role, long term, long lastTerm, long lsn) {

    public boolean isData() {
        return !witness;
    }

    /** Data recency: (lastTerm, lsn), compared lexicographically. */
    public int compareData(MemberState o) {
        int c = Long.compare(lastTerm, o.lastTerm);
        return c != 0 ? c : Long.compare(lsn, o.lsn);
    }

    public String dataString() {
        return "term " + lastTerm + ", lsn " + lsn;
    }
}
