package dev.tandem.node;

import java.util.List;

/** JVM options for launching nodes (the demo, the test harness; the Debian package's defaults file mirrors them). */
public final class JvmOptions {
    private JvmOptions() {}

    /** A data node: GraalPy and H2 want room; RSS settles around 450-500 MiB. */
    public static final List<String> DATA = List.of("-Xmx512m", "-Xss8m");

    /** A witness holds no data and runs no Python: a small heap keeps it near 100 MiB RSS (SPEC aim: 150 MB). */
    public static final List<String> WITNESS = List.of("-Xmx48m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:MaxMetaspaceSize=64m", "-XX:ReservedCodeCacheSize=32m");
}
