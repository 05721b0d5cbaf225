package dev.bulkhead.bench.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PeerReportTest {

    @Test
    void tableHasDecodePrefillLongPromptAndBatchedRowsWithTheBestRunOfEachEngineAndTheirRatio() {
        PeerReport report = new PeerReport();
        report.add(new GgufTimings("llama.cpp", "Q8_0", 2, List.of(190.0, 200.0), List.of(1000.0), "llama-bench"));
        report.add(new GgufTimings("bulkhead", "Q8_0", 2, List.of(90.0, 100.0, 95.0), List.of(400.0, 500.0), "x"));
        report.addBatched(PeerReport.mergeRuns(List.of(
                new BatchedTimings("llama.cpp", "F32", 16, 128, 128, List.of(400.0), List.of(900.0), "b"),
                new BatchedTimings("llama.cpp", "F32", 16, 128, 128, List.of(420.0), List.of(950.0), "b"))));
        report.addBatched(new BatchedTimings("bulkhead", "F32", 16, 128, 128, List.of(210.0, 205.0), List.of(500.0), "o"));
        report.addLongPrompt(2048, new GgufTimings("llama.cpp", "F32", 2, List.of(50.0), List.of(400.0, 380.0), "l"));
        report.addLongPrompt(2048, new GgufTimings("bulkhead", "F32", 2, List.of(40.0), List.of(300.0, 310.0), "b"));

        assertThat(report.markdown().lines()).contains(
                "| decode Q8_0 | 100.0 | 200.0 | 0.50 |",
                "| prefill Q8_0 | 500.0 | 1000.0 | 0.50 |",
                "| prefill F32, 2048-token prompt | 310.0 | 400.0 | 0.78 |",
                "| 16 sequences × 128 tokens, F32, aggregate | 210.0 | 420.0 | 0.50 |");
    }

    @Test
    void aVariantGetsItsOwnColumnAndRatioOnEveryRow() {
        PeerReport report = new PeerReport();
        report.add(new GgufTimings("llama.cpp", "Q4_0", 2, List.of(300.0), List.of(600.0), "llama-bench"));
        report.add(new GgufTimings("bulkhead", "Q4_0", 2, List.of(150.0), List.of(300.0, 240.0), "x"));
        report.add(new GgufTimings(PeerReport.VARIANT, "Q4_0", 2, List.of(140.0), List.of(420.0, 450.0), "v"));
        report.addBatched(new BatchedTimings("llama.cpp", "F32", 64, 128, 128, List.of(200.0), List.of(900.0), "b"));
        report.addBatched(new BatchedTimings("bulkhead", "F32", 64, 128, 128, List.of(180.0), List.of(500.0), "o"));
        report.addBatched(new BatchedTimings(PeerReport.VARIANT, "F32", 64, 128, 128, List.of(220.0), List.of(600.0), "v"));

        assertThat(report.markdown().lines()).containsSubsequence(
                "| work | Bulkhead tok/s | Bulkhead variant tok/s | llama.cpp tok/s | ratio | variant ratio |",
                "|---|---:|---:|---:|---:|---:|",
                "| decode Q4_0 | 150.0 | 140.0 | 300.0 | 0.50 | 0.47 |",
                "| prefill Q4_0 | 300.0 | 450.0 | 600.0 | 0.50 | 0.75 |",
                "| 64 sequences × 128 tokens, F32, aggregate | 180.0 | 220.0 | 200.0 | 0.90 | 1.10 |");
    }
}
