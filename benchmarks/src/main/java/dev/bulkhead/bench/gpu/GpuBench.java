package dev.bulkhead.bench.gpu;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The Java parts of {@code benchmarks/gpu/run-h100.sh}, one subcommand each, every one a fresh JVM so a sticky
 * CUDA error or an out-of-memory in one part cannot take the others' figures with it:
 * {@code device} (device.json, bandwidth.json), {@code decode} (decode-SHAPE.json) and {@code summary}
 * (summary.json). Batched throughput is {@link dev.bulkhead.bench.serving.ThroughputBench} with
 * {@code --device cuda}. With {@code --device cuda-emulator} each runs on the CPU CUDA emulator and says so in
 * every file.
 */
@Command(name = "gpu-bench", mixinStandardHelpOptions = true,
        subcommands = {DeviceCommand.class, DecodeCommand.class, SummaryCommand.class},
        description = "GPU measurements of the CUDA backend (see benchmarks/gpu/run-h100.sh).")
public final class GpuBench implements Runnable {

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new GpuBench()).execute(args));
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "name a subcommand: device, decode or summary");
    }
}
