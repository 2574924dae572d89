package dev.tandem.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's writing half on figures made up here (the benchmarks that measure them run in BenchSmokeTest):
 * the plots are real PNGs drawn headless, and the SPEC 8 rows say met or missed from the figures.
 */
class ReportTest {
    @TempDir
    Path dir;

    @Test
    void plotsAreDrawnAndSpecRowsAreJudgedFromTheFigures() throws Exception {
        Figures.reset();
        Figures.samples("failover", "kill -9 -> first acknowledged write", new long[] {180, 190, 200, 640}, "bin/tandem-bench failover --runs 4");
        Figures.samples("failover", "switchover: writes unavailable", new long[] {100, 120, 150, 210}, "bin/tandem-bench failover --runs 4");
        List<double[]> points = new ArrayList<>();
        for (int i = -100; i < 300; i++) points.add(new double[] {i * 5, i < 0 || i > 40 ? 2 + i % 3 : 0, i < 0 || i > 40 ? 1 : 0});
        Figures.series("write latency across a kill -9 of the primary", points);
        List<String> plots = Plots.write(dir, Figures.samples(), Figures.series());
        assertThat(plots).containsExactly("failover-times.png", "latency-kill9.png");
        for (String p : plots) {
            byte[] png = Files.readAllBytes(dir.resolve(p));
            assertThat(png.length).as(p).isGreaterThan(5_000);
            assertThat(new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).as(p + " is a PNG").isEqualTo("PNG");
        }
        JsonArray spec = ReportBench.spec8();
        assertThat(spec.getJsonObject(0).getString("measured")).isEqualTo("p50 190, p99 640 ms (n=4)");
        assertThat(spec.getJsonObject(0).getBoolean("met")).as("p99 640 > 500").isFalse();
        assertThat(spec.getJsonObject(2).getBoolean("met")).as("writes unavailable at most 210 ms").isTrue();
        assertThat(spec.getJsonObject(6).getString("measured")).isEqualTo("not measured");
        Figures.reset();
    }
}
