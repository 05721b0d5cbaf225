package dev.bulkhead.bench.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bulkhead.model.synth.ModelShapes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThroughputReportTest {

    private static ThroughputRun run(int c, double decode, double total) {
        return new ThroughputRun(c, 100L * c, 1, total, 50L * c, 0.5, decode, 10, 5, 100);
    }

    @Test
    void speedupsCompareTheBestRunOfEachLevelWithTheBestSingleRequest() {
        ThroughputReport report = new ThroughputReport(0);
        report.add(run(1, 50, 45));
        report.add(run(1, 60, 55)); // the best c=1 run counts
        report.add(run(16, 240, 200));
        report.add(run(16, 180, 170));
        assertThat(report.best(16).decodeTokensPerSecond()).isEqualTo(240);
        assertThat(report.decodeSpeedup(16)).isCloseTo(4.0, within(1e-12));
        assertThat(report.totalSpeedup(16)).isCloseTo(200.0 / 55, within(1e-12));
        assertThat(report.table()).contains("16", "240.0", "4.00");
        assertThatThrownBy(() -> report.best(4)).hasMessageContaining("concurrency 4");
    }

    @Test
    void stories110mDoesAboutTwoHundredTwentyMegaflopsPerToken() {
        // 12 layers x (4 x 768^2 + 3 x 768 x 2048) + 32000 x 768 weights, two FLOPs each
        assertThat(ThroughputReport.matmulFlopsPerToken(ModelShapes.get("stories110m").config()))
                .isEqualTo(2L * (12L * (4 * 768 * 768 + 3 * 768 * 2048) + 32000L * 768));
    }

    @Test
    void writesJsonAndPng(@TempDir Path dir) throws Exception {
        ThroughputReport report = new ThroughputReport(1_000_000_000L);
        report.add(run(1, 50, 45));
        report.add(run(4, 150, 140));
        report.writeJson(dir.resolve("t.json"), Map.of("model", "x"), BenchEnvironment.capture());
        ThroughputPlot.write(report, dir.resolve("t.png"), "x");
        assertThat(Files.readString(dir.resolve("t.json")))
                .contains("\"decodeSpeedup\" : 3.0", "\"decodeGflopsPerSecond\" : 150.0");
        assertThat(Files.size(dir.resolve("t.png"))).isPositive();
    }
}
