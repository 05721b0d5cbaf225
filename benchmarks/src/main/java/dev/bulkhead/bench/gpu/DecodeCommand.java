package dev.bulkhead.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulkhead.bench.DecodeReport;
import dev.bulkhead.bench.DecodeSpec;
import dev.bulkhead.bench.WeightTraffic;
import dev.bulkhead.engine.internal.cuda.CudaModelRunner.DecodeSteps;
import dev.bulkhead.model.arch.DecoderArchitecture;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import dev.bulkhead.model.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-bench decode}: batch-1 greedy decode of one checkpoint on the CUDA runner, eagerly and from CUDA
 * graphs, against the device bandwidth in {@code bandwidth.json}: {@link DecodeReport}'s table and JSON, with
 * the bf16 weight bytes every token streams (the CUDA runner holds bf16 whatever the checkpoint stores).
 * A mode that fails is recorded under {@code settings.errors} and the others still run.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Batch-1 decode tok/s on the CUDA runner, eager and with graphs, as % of device bandwidth.")
final class DecodeCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeCommand.class);

    @Option(names = "--device", defaultValue = "cuda", description = "cuda or cuda-emulator (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--model", required = true, description = "Hugging Face checkpoint directory")
    Path model;

    @Option(names = "--shape", required = true, description = "the shape's name, for the report")
    String shape;

    @Option(names = "--modes", split = ",", defaultValue = "eager,graphs", description = "eager, graphs (default ${DEFAULT-VALUE})")
    List<String> modes;

    @Option(names = "--tokens", defaultValue = "128", description = "timed decode steps per run")
    int tokens;

    @Option(names = "--warmup", defaultValue = "1", description = "untimed runs first")
    int warmup;

    @Option(names = "--runs", defaultValue = "3", description = "timed runs; the best counts")
    int runs;

    @Option(names = "--bandwidth", description = "bandwidth.json of this device (gpu-bench device)")
    Path bandwidth;

    @Option(names = "--budget-s", defaultValue = "0", description = "start no mode past this many seconds (0: no limit)")
    int budgetSeconds;

    @Option(names = "--out", required = true, description = "JSON file for the results")
    Path out;

    @Override
    public Integer call() {
        long started = System.nanoTime();
        List<DecodeSteps> steps = modes.stream().map(m -> DecodeSteps.valueOf(m.trim().toUpperCase(Locale.ROOT))).toList();
        GpuDevice gpu = GpuDevice.bind(device);
        ModelConfig config = HfConfigReader.read(model.resolve("config.json"));
        DecodeReport report = new DecodeReport(shape, config);
        report.setting("target", gpu.target());
        report.setting("device", gpu.describe());
        report.setting("tokens", tokens);
        report.setting("warmupRuns", warmup);
        report.setting("runs", runs);
        report.setting("stepOutput", "greedy id (argmax on the device); the engine copies logits back instead");
        report.bytesPerToken("bf16", WeightTraffic.bytesPerToken(config, DType.BF16));
        Optional<JsonNode> bw = bandwidth == null ? Optional.empty() : PartFiles.read(bandwidth);
        if (bw.isPresent()) {
            // NOTE: DecodeReport keys bandwidth by thread count; one host thread drives the device here.
            report.bandwidth(1, bw.get().path("bestGBps").asDouble() * 1e9);
            report.setting("bandwidthSource", bandwidth.getFileName() + ": " + bw.get().path("method").asText());
        } else {
            // NOTE: tok/s are still worth having when the bandwidth part failed; only the percentages go.
            LOG.warn("no bandwidth file ({}): no % of bandwidth in this report", bandwidth);
            report.setting("bandwidthSource", "none");
        }
        Map<String, Double> loadSeconds = new TreeMap<>();
        Map<String, String> errors = new TreeMap<>();
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(model)) {
            ModelWeights weights = DecoderArchitecture.of(config.family()).bind(config, source);
            DecodeSpec spec = new DecodeSpec(model, "bf16", 1, tokens, warmup, runs);
            for (DecodeSteps mode : steps) {
                if (budgetSeconds > 0 && (System.nanoTime() - started) / 1e9 > budgetSeconds) {
                    errors.put(mode.name(), "not run: the " + budgetSeconds + " s budget is spent");
                    continue;
                }
                try {
                    GpuDecode.Timed t = GpuDecode.run(weights, spec, mode);
                    report.add(t.result());
                    loadSeconds.put(mode.name(), PartFiles.round(t.loadSeconds(), 2));
                    LOG.info("{} {}: {} tok/s best, loaded in {} s", shape, mode,
                            String.format(Locale.ROOT, "%.1f", t.result().bestTokensPerSecond()),
                            String.format(Locale.ROOT, "%.1f", t.loadSeconds()));
                } catch (RuntimeException e) {
                    // NOTE: a failed mode is a result too; the other mode may still run on this device.
                    LOG.error("{} {} failed", shape, mode, e);
                    errors.put(mode.name(), e.toString());
                }
            }
        }
        report.setting("loadSeconds", loadSeconds);
        if (!errors.isEmpty()) {
            report.setting("errors", errors);
        }
        System.out.print(report.table());
        report.writeJson(out);
        System.out.println("wrote " + out);
        return errors.isEmpty() ? 0 : 1;
    }
}
