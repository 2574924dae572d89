package dev.tandem.cluster;

import java.util.List;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Keeps a hostile or misconfigured peer from flooding the log: of the warnings and errors the JGroups
 * protocols that meet foreign traffic write (a message that does not decrypt, a join that does not
 * authenticate), one per logger passes per minute ({@link OncePerMinute}); the next one that passes says how many
 * were held back meanwhile.
 */
final class LogLimiter implements Filter {
    /** Held strongly: java.util.logging keeps only weak references to loggers, and a collected logger loses its filter. */
    private static final List<Logger> LIMITED = List.of("org.jgroups.protocols.SYM_ENCRYPT", "org.jgroups.protocols.Encrypt",
            "org.jgroups.protocols.AUTH", "org.jgroups.protocols.pbcast.GMS", "org.jgroups.protocols.TCP",
            "org.jgroups.protocols.UNICAST3", "org.jgroups.protocols.pbcast.NAKACK2").stream().map(Logger::getLogger).toList();

    private final OncePerMinute window = new OncePerMinute();

    static void install() {
        LogLimiter limiter = new LogLimiter();
        for (Logger l : LIMITED) {
            if (!(l.getFilter() instanceof LogLimiter)) l.setFilter(limiter);
        }
    }

    @Override
    public boolean isLoggable(LogRecord r) {
        if (r.getLevel().intValue() < Level.WARNING.intValue()) return true;
        long held = window.admit(String.valueOf(r.getLoggerName()));
        if (held < 0) return false;
        if (held > 0) r.setMessage(r.getMessage() + " [" + held + " more like this in the last " + OncePerMinute.PERIOD_MS / 1000 + " s were not logged]");
        return true;
    }
}
