package dev.tandem.metrics;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * Java Flight Recorder events along one write's path, off unless a recording enables them ({@code tandem.*};
 * {@code bin/tandem-bench breakdown} does). Each carries the LSNs it concerns and {@link System#nanoTime()} stamps
 * at its stage boundaries: on Linux that clock is CLOCK_MONOTONIC, one clock for every process on the machine, so
 * the primary's and the secondary's recordings join by LSN into one timeline per write. A disabled event costs a
 * check of a flag; nothing is recorded.
 */
public final class WriteTrace {
    private WriteTrace() {}

    /** The time now, in the unit and clock of every stamp below. */
    public static long now() {
        return System.nanoTime();
    }

    @Name("tandem.WriteRequest")
    @Label("Workflow write request")
    @Category({"tandem", "write path"})
    @Description("A workflow request that committed: reached the route handler, route done, durable, answered")
    @Enabled(false)
    @StackTrace(false)
    public static final class Request extends Event {
        @Label("LSN") public long lsn;
        @Label("Handler entered") public long inNanos;
        @Label("Route returned") public long routedNanos;
        @Label("Durable") public long durableNanos;
        @Label("Answered") public long outNanos;
    }

    @Name("tandem.Route")
    @Label("Workflow route")
    @Category({"tandem", "write path"})
    @Description("A route's Python code on its workflow's thread")
    @Enabled(false)
    @StackTrace(false)
    public static final class Route extends Event {
        @Label("LSN") public long lsn;
        @Label("Started") public long startNanos;
        @Label("Ended") public long endNanos;
    }

    @Name("tandem.Commit")
    @Label("Store commit")
    @Category({"tandem", "write path"})
    @Description("A transaction's commit on the primary: the change-log row, the H2 commit, then the commit listeners (the ship)")
    @Enabled(false)
    @StackTrace(false)
    public static final class Commit extends Event {
        @Label("LSN") public long lsn;
        @Label("Started") public long startNanos;
        @Label("Committed") public long committedNanos;
        @Label("Listeners done") public long endNanos;
    }

    @Name("tandem.Ship")
    @Label("Change batch shipped")
    @Category({"tandem", "replication"})
    @Enabled(false)
    @StackTrace(false)
    public static final class Ship extends Event {
        @Label("First LSN") public long firstLsn;
        @Label("Last LSN") public long lastLsn;
        @Label("Started") public long startNanos;
        @Label("Sent") public long sentNanos;
    }

    @Name("tandem.Apply")
    @Label("Change batch applied")
    @Category({"tandem", "replication"})
    @Description("On the secondary: the batch received, its apply started, applied and committed, the ack sent")
    @Enabled(false)
    @StackTrace(false)
    public static final class Apply extends Event {
        @Label("First LSN") public long firstLsn;
        @Label("Last LSN") public long lastLsn;
        @Label("Received") public long receivedNanos;
        @Label("Apply started") public long startNanos;
        @Label("Applied") public long appliedNanos;
        @Label("Ack sent") public long ackedNanos;
    }

    @Name("tandem.Ack")
    @Label("Ack handled")
    @Category({"tandem", "replication"})
    @Description("On the primary: a secondary's ack received, and the writes it covers released")
    @Enabled(false)
    @StackTrace(false)
    public static final class Ack extends Event {
        @Label("LSN") public long lsn;
        @Label("Received") public long receivedNanos;
        @Label("Handled") public long handledNanos;
    }
}
