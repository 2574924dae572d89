package dev.tandem.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the benchmarks measured, kept as data besides the lines they print, for the report: one row per
 * figure (min, p50, p99, max over its runs, and the command that reproduces it), and the raw samples and
 * time series the plots draw.
 */
public final class Figures {
    public record Row(String section, String name, String unit, long runs, double min, double p50, double p99, double max, String command) {}

    private static final List<Row> ROWS = new ArrayList<>();
    private static final Map<String, long[]> SAMPLES = new LinkedHashMap<>();
    private static final Map<String, List<double[]>> SERIES = new LinkedHashMap<>();

    private Figures() {}

    /** Samples of one figure, in ms; kept whole for the plots. */
    public static synchronized void samples(String section, String name, long[] ms, String command) {
        long[] s = ms.clone();
        Arrays.sort(s);
        ROWS.add(new Row(section, name, "ms", s.length, s[0], FailoverBench.pct(s, 50), FailoverBench.pct(s, 99), s[s.length - 1], command));
        SAMPLES.put(name, s);
    }

    /** One measured value (e.g. writes/s of one step). */
    public static synchronized void value(String section, String name, String unit, double v, String command) {
        ROWS.add(new Row(section, name, unit, 1, v, v, v, v, command));
    }

    /** Points (x, y, ...) to plot under {@code name}. */
    public static synchronized void series(String name, List<double[]> points) {
        SERIES.put(name, List.copyOf(points));
    }

    public static synchronized List<Row> rows() {
        return List.copyOf(ROWS);
    }

    public static synchronized Map<String, long[]> samples() {
        return new LinkedHashMap<>(SAMPLES);
    }

    public static synchronized Map<String, List<double[]>> series() {
        return new LinkedHashMap<>(SERIES);
    }

    public static synchronized void reset() {
        ROWS.clear();
        SAMPLES.clear();
        SERIES.clear();
    }
}
