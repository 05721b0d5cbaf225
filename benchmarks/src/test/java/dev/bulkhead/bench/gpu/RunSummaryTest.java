package dev.bulkhead.bench.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** summary.json from hand-made part files: the figures it gathers and how the targets are judged. */
class RunSummaryTest {

    @TempDir
    Path dir;

    private void write(String name, String json) throws IOException {
        Files.writeString(dir.resolve(name), json);
    }

    private void run(String target) throws IOException {
        write("device.json", """
                {"part": "device", "target": "%s", "cuda": {"name": "NVIDIA H100 80GB HBM3"}, "nvidiaSmi": ["NVIDIA H100"]}
                """.formatted(target));
        write("bandwidth.json", """
                {"part": "bandwidth", "bestGBps": 3000.0}""");
        write("decode-llama-3.2-1b.json", """
                {"benchmark": "decode", "weightBytesPerToken": {"bf16": 2471628800},
                 "results": [{"engine": "bulkhead-cuda-eager", "bestTokPerSec": 500, "weightGBps": 1235.8, "fractionOfBandwidth": 0.4119},
                             {"engine": "bulkhead-cuda-graphs", "bestTokPerSec": 1100, "weightGBps": 2718.8, "fractionOfBandwidth": 0.9063}]}""");
        write("decode-llama-3.1-8b.json", """
                {"benchmark": "decode", "weightBytesPerToken": {"bf16": 16060522496},
                 "results": [{"engine": "bulkhead-cuda-graphs", "bestTokPerSec": 150, "weightGBps": 2409.1, "fractionOfBandwidth": 0.803}],
                 "settings": {"errors": {"EAGER": "java.lang.IllegalStateException: boom"}}}""");
        write("batched-llama-3.1-8b.json", """
                {"benchmark": "throughput", "levels": [
                  {"concurrency": 1, "decodeTokensPerSecond": 140, "totalTokensPerSecond": 120},
                  {"concurrency": 256, "decodeTokensPerSecond": 15000, "totalTokensPerSecond": 12000}]}""");
        write("hf-llama-3.1-8b.json", """
                {"part": "hf", "decode": {"bestTokPerSec": 30}, "versions": {"transformers": "4.57.1"}, "errors": [],
                 "batched": [{"concurrency": 1, "totalTokensPerSecond": 30, "decodeTokensPerSecond": 31},
                             {"concurrency": 256, "totalTokensPerSecond": 1000, "decodeTokensPerSecond": 1100}]}""");
        write("parts.tsv", "device\tok\t4\tbandwidth.json\t\ndecode llama-3.1-8b\tfailed\t90\tdecode-llama-3.1-8b.json\texit 1\n");
    }

    private JsonNode target(JsonNode summary, int i) {
        return summary.path("targets").get(i);
    }

    @Test
    void judgesEachTargetOnADevice() throws IOException {
        run("device");
        JsonNode s = new RunSummary(dir).build(List.of("llama-3.2-1b", "llama-3.1-8b"));
        assertThat(s.path("target").asText()).isEqualTo("device");
        assertThat(s.path("notice").asText()).isEqualTo("measured on NVIDIA H100 80GB HBM3");
        assertThat(target(s, 0).path("shape").asText()).isEqualTo("llama-3.2-1b");
        assertThat(target(s, 0).path("value").asDouble()).isEqualTo(0.9063);
        assertThat(target(s, 0).path("met").asBoolean()).isTrue();
        assertThat(target(s, 1).path("met").asBoolean()).isFalse(); // 80% < 85%
        // peak 12,000 over HF's peak 1,000
        assertThat(target(s, 2).path("value").asDouble()).isEqualTo(12.0);
        assertThat(target(s, 2).path("met").asBoolean()).isTrue();
    }

    @Test
    void gathersEachShapesFiguresAndPartStatuses() throws IOException {
        run("device");
        JsonNode s = new RunSummary(dir).build(List.of("llama-3.2-1b", "llama-3.1-8b"));
        assertThat(s.path("bandwidthGBps").asDouble()).isEqualTo(3000.0);
        assertThat(s.path("parts")).hasSize(2);
        assertThat(s.path("parts").get(1).path("status").asText()).isEqualTo("failed");
        assertThat(s.path("parts").get(1).path("seconds").asInt()).isEqualTo(90);
        JsonNode b8 = s.path("models").get(1);
        assertThat(b8.path("decodeErrors").path("EAGER").asText()).contains("boom");
        assertThat(b8.path("batched").get(1).path("totalVsHf").asDouble()).isEqualTo(12.0);
        assertThat(b8.path("batched").get(1).path("hfDecodeTokPerSec").asDouble()).isEqualTo(1100.0);
        // HF's batch-1 rate against the same bandwidth: 30 tok/s x 16.06 GB / 3000 GB/s
        assertThat(b8.path("hf").path("fractionOfBandwidth").asDouble()).isEqualTo(0.161);
        assertThat(s.path("models").get(0).path("decode").get(1).path("msPerToken").asDouble()).isEqualTo(0.909);
        assertThat(RunSummary.table(s)).contains("TARGET", "90.6%", "llama-3.1-8b");
    }

    @Test
    void judgesNothingOnTheEmulatorOrWithoutFigures() throws IOException {
        run("emulator");
        Files.delete(dir.resolve("hf-llama-3.1-8b.json"));
        JsonNode s = new RunSummary(dir).build(List.of("llama-3.2-1b", "llama-3.1-8b"));
        assertThat(s.path("notice").asText()).startsWith("CPU CUDA EMULATOR REHEARSAL");
        assertThat(s.path("targets")).hasSize(3).allSatisfy(t -> assertThat(t.path("met").isNull()).isTrue());
        assertThat(target(s, 0).path("note").asText()).contains("not measured on a GPU");
        assertThat(target(s, 2).path("value").isNull()).isTrue();
        assertThat(target(s, 2).path("note").asText()).isEqualTo("not measured in this run");
    }

    @Test
    void aRunWithoutDeviceFileIsNoGpuRun() {
        JsonNode s = new RunSummary(dir).build(List.of("llama-3.2-1b"));
        assertThat(s.path("target").asText()).isEqualTo("unknown");
        assertThat(s.path("models")).hasSize(1);
        assertThat(s.path("targets")).allSatisfy(t -> assertThat(t.path("met").isNull()).isTrue());
    }
}
