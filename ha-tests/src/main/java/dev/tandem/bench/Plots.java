package dev.tandem.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.statistics.DefaultBoxAndWhiskerCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's PNG plots, drawn with JFreeChart (headless). */
final class Plots {
    private Plots() {}

    /** Writes the plots into {@code dir}; returns their file names. */
    static List<String> write(Path dir, Map<String, long[]> samples, Map<String, List<double[]>> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> files = new ArrayList<>();
        DefaultBoxAndWhiskerCategoryDataset box = new DefaultBoxAndWhiskerCategoryDataset();
        for (String name : List.of("kill -9 -> /health/primary 200", "kill -9 -> first acknowledged write", "SIGSTOP -> /health/primary 200",
                "SIGSTOP -> first acknowledged write", "switchover: request -> done", "switchover: writes unavailable")) {
            long[] s = samples.get(name);
            if (s == null) continue;
            List<Double> values = new ArrayList<>();
            for (long v : s) values.add((double) v);
            box.add(values, "ms", name.replace(" -> ", " ->\n"));
        }
        if (box.getColumnCount() > 0) {
            JFreeChart chart = ChartFactory.createBoxAndWhiskerChart("Failover and switchover times (" + samples.values().stream()
                    .mapToInt(a -> a.length).max().orElse(0) + " runs each)", "", "ms from the fault", box, false);
            chart.setBackgroundPaint(Color.WHITE);
            save(chart, dir, "failover-times.png", 1100, 520, files);
        }
        int n = 0;
        for (var e : series.entrySet()) {
            XYSeries ok = new XYSeries("acknowledged write: its latency"), failed = new XYSeries("failed request (at 0)");
            for (double[] p : e.getValue()) (p[2] > 0 ? ok : failed).add(p[0], p[1]);
            XYSeriesCollection data = new XYSeriesCollection();
            data.addSeries(ok);
            data.addSeries(failed);
            JFreeChart chart = ChartFactory.createScatterPlot(e.getKey(), "ms since the fault", "write latency, ms", data,
                    PlotOrientation.VERTICAL, true, false, false);
            chart.setBackgroundPaint(Color.WHITE);
            XYPlot plot = chart.getXYPlot();
            plot.setBackgroundPaint(Color.WHITE);
            plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
            plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
            save(chart, dir, (e.getKey().contains("kill") ? "latency-kill9" : e.getKey().contains("switchover") ? "latency-switchover" : "series-" + n++) + ".png",
                    1100, 480, files);
        }
        return files;
    }

    private static void save(JFreeChart chart, Path dir, String name, int w, int h, List<String> files) throws IOException {
        ChartUtils.saveChartAsPNG(dir.resolve(name).toFile(), chart, w, h);
        files.add(name);
    }
}
