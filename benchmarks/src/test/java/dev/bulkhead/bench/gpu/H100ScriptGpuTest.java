package dev.bulkhead.bench.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.bench.WeightTraffic;
import dev.bulkhead.cuemu.CudaEmulator;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.cuemu.OnGpuTarget;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * benchmarks/gpu/run-h100.sh end to end, as it will run on the first GPU but on tiny shapes and with the
 * build's class path instead of the bundles: make-model, the device and bandwidth part, batch-1 decode eager
 * and with graphs, batched throughput and the summary (the gpu test suite and HF transformers are left out:
 * the first runs in the build anyway, the second needs torch). On the emulator (every build) every file must
 * say so and no target may be judged; the figures must be positive and the JSON in the documented shape.
 */
@Tag("gpu")
@ExtendWith(OnGpuTarget.class)
class H100ScriptGpuTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SHAPE = "tiny-llama";

    @TempDir
    static Path tmp;
    static Path out;
    static int exitStatus;
    static String log;

    @BeforeAll
    static void runScript() throws Exception {
        out = tmp.resolve("out");
        Path logFile = tmp.resolve("script.log");
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("gpu", "run-h100.sh").toString(), "run", target())
                .redirectErrorStream(true).redirectOutput(logFile.toFile());
        Map<String, String> env = pb.environment();
        env.put("OUT", out.toString());
        env.put("BULKHEAD_H100_WORK", tmp.resolve("work").toString());
        env.put("BULKHEAD_H100_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        env.put("BULKHEAD_H100_CLASSPATH", System.getProperty("java.class.path"));
        env.put("BULKHEAD_H100_SHAPES", SHAPE);
        env.put("BULKHEAD_H100_PARTS", "models,device,decode,batched");
        env.put("BULKHEAD_H100_TOKENS", "6");
        env.put("BULKHEAD_H100_RUNS", "2");
        env.put("BULKHEAD_H100_WARMUP", "0");
        env.put("BULKHEAD_H100_CONCURRENCY", "1,3");
        env.put("BULKHEAD_H100_MAX_TOKENS", "4");
        env.put("BULKHEAD_H100_MAX_BATCHED_TOKENS", "64");
        env.put("BULKHEAD_H100_BANDWIDTH_MIB", "16");
        env.put("BULKHEAD_H100_BUDGET_S", "170");
        env.put("BULKHEAD_H100_PART_S", "90");
        env.put("BULKHEAD_H100_HEAP", "1g");
        env.put("BULKHEAD_LOG_LEVEL", "warn");
        Process p = pb.start();
        if (!p.waitFor(200, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("run-h100.sh did not finish in 200 s:\n" + Files.readString(logFile));
        }
        exitStatus = p.exitValue();
        log = Files.readString(logFile);
        System.out.println(log);
    }

    private static String target() {
        return GpuTarget.emulated() ? GpuDevice.EMULATOR : GpuDevice.DEVICE;
    }

    private static JsonNode read(String name) throws IOException {
        assertThat(out.resolve(name)).as("%s in the output; script log:%n%s", name, log).isRegularFile();
        return JSON.readTree(out.resolve(name).toFile());
    }

    @Test
    void everyRequestedPartRanAndSucceeded() throws IOException {
        assertThat(exitStatus).as("exit status; log:%n%s", log).isZero();
        List<String> parts = Files.readAllLines(out.resolve("parts.tsv"));
        assertThat(parts).extracting(l -> l.split("\t")[0]).containsExactlyInAnyOrder("device",
                "make-model " + SHAPE, "decode " + SHAPE, "batched " + SHAPE);
        assertThat(parts).allSatisfy(l -> assertThat(l.split("\t")[1]).as(l).isEqualTo("ok"));
    }

    @Test
    void everyFileNamesTheTargetItRanOn() throws IOException {
        JsonNode device = read("device.json");
        assertThat(device.path("target").asText()).isEqualTo(target());
        assertThat(device.path("nvidiaSmi").isArray()).isTrue();
        if (GpuTarget.emulated()) {
            assertThat(device.path("cuda").path("name").asText()).isEqualTo(CudaEmulator.DEVICE_NAME);
            assertThat(read("summary.json").path("notice").asText()).contains("EMULATOR", "not GPU figures");
        }
        assertThat(read("bandwidth.json").path("target").asText()).isEqualTo(target());
        assertThat(read("decode-" + SHAPE + ".json").path("settings").path("target").asText()).isEqualTo(target());
        assertThat(read("decode-" + SHAPE + ".json").path("settings").path("device").asText())
                .contains(device.path("cuda").path("name").asText());
        assertThat(read("batched-" + SHAPE + ".json").path("settings").path("backend").asText())
                .startsWith(GpuTarget.emulated() ? "cuda-emulator" : "cuda");
        assertThat(read("checkpoints.json").path("target").asText()).isEqualTo(target());
        assertThat(read("summary.json").path("target").asText()).isEqualTo(target());
    }

    @Test
    void bandwidthAndDecodeFiguresArePositiveAndAgree() throws IOException {
        JsonNode bw = read("bandwidth.json");
        assertThat(bw.path("bufferBytes").asLong()).isEqualTo(16L << 20);
        assertThat(bw.path("passGBps")).isNotEmpty().allSatisfy(r -> assertThat(r.asDouble()).isPositive());
        assertThat(bw.path("bestGBps").asDouble()).isPositive();

        JsonNode decode = read("decode-" + SHAPE + ".json");
        long bytes = WeightTraffic.bytesPerToken(ModelShapes.get(SHAPE).config(), DType.BF16);
        assertThat(decode.path("weightBytesPerToken").path("bf16").asLong()).isEqualTo(bytes);
        assertThat(decode.path("settings").path("errors").isMissingNode()).isTrue();
        assertThat(decode.path("results")).extracting(r -> r.path("engine").asText())
                .containsExactly("bulkhead-cuda-eager", "bulkhead-cuda-graphs");
        for (JsonNode r : decode.path("results")) {
            assertThat(r.path("tokens").asInt()).isEqualTo(6);
            assertThat(r.path("runSeconds")).hasSize(2);
            double tps = r.path("bestTokPerSec").asDouble();
            assertThat(tps).isPositive();
            // the share of bandwidth is the weights' bytes per second over the measured copy rate (4 decimals)
            assertThat(r.path("fractionOfBandwidth").asDouble())
                    .isCloseTo(bytes * tps / (bw.path("bestGBps").asDouble() * 1e9), within(1.5e-4));
        }
        assertThat(decode.path("settings").path("loadSeconds").path("GRAPHS").asDouble()).isPositive();
    }

    @Test
    void batchedThroughputHasEveryLevel() throws IOException {
        JsonNode batched = read("batched-" + SHAPE + ".json");
        assertThat(batched.path("levels")).extracting(l -> l.path("concurrency").asInt()).containsExactly(1, 3);
        for (JsonNode l : batched.path("levels")) {
            assertThat(l.path("totalTokensPerSecond").asDouble()).isPositive();
            assertThat(l.path("runs").get(0).path("outputTokens").asLong()).isEqualTo(4L * l.path("concurrency").asInt());
        }
        assertThat(batched.path("settings").path("skipped")).isEmpty();
    }

    @Test
    void summaryGathersTheFiguresAndJudgesNoTargetOffADevice() throws IOException {
        JsonNode summary = read("summary.json");
        assertThat(summary.path("bandwidthGBps").asDouble()).isPositive();
        assertThat(summary.path("parts")).hasSize(4);
        JsonNode model = summary.path("models").get(0);
        assertThat(model.path("shape").asText()).isEqualTo(SHAPE);
        assertThat(model.path("decode")).hasSize(2).allSatisfy(r -> {
            assertThat(r.path("tokPerSec").asDouble()).isPositive();
            assertThat(r.path("fractionOfBandwidth").isNumber()).isTrue();
        });
        assertThat(model.path("batched")).hasSize(2)
                .allSatisfy(l -> assertThat(l.path("totalTokPerSec").asDouble()).isPositive());
        JsonNode targets = summary.path("targets");
        assertThat(StreamSupport.stream(targets.spliterator(), false).map(t -> t.path("shape").asText()))
                .containsExactly("llama-3.2-1b", "llama-3.1-8b", "llama-3.1-8b");
        // tiny-llama is none of the targets' shapes: nothing measured, nothing judged
        assertThat(targets).allSatisfy(t -> {
            assertThat(t.path("met").isNull()).isTrue();
            assertThat(t.path("value").isNull()).isTrue();
        });
        JsonNode checkpoints = read("checkpoints.json").path("checkpoints").get(0);
        assertThat(checkpoints.path("complete").asBoolean()).isTrue();
        assertThat(checkpoints.path("bytes").asLong()).isPositive();
    }
}
