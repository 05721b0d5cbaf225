package dev.bulkhead.bench.gpu;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.bench.serving.BenchEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-bench device}: which device this run has, from nvidia-smi (captured by the script) and from the
 * project's CUDA bindings, into {@code device.json}; then its copy bandwidth into {@code bandwidth.json}.
 */
@Command(name = "device", mixinStandardHelpOptions = true,
        description = "Describe the CUDA device and measure its device-to-device copy bandwidth.")
final class DeviceCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceCommand.class);

    @Option(names = "--device", defaultValue = "cuda", description = "cuda or cuda-emulator (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--nvidia-smi", description = "a file with nvidia-smi's answer (--query-gpu ... --format=csv), one GPU a line")
    Path nvidiaSmi;

    @Option(names = "--bandwidth-mib", defaultValue = "2048", description = "size of each copy buffer (default ${DEFAULT-VALUE})")
    int bandwidthMib;

    @Option(names = "--passes", defaultValue = "5", description = "timed passes; the best counts (default ${DEFAULT-VALUE})")
    int passes;

    @Option(names = "--copies", defaultValue = "10", description = "copies per pass (default ${DEFAULT-VALUE})")
    int copies;

    @Option(names = "--out-dir", required = true, description = "where device.json and bandwidth.json go")
    Path outDir;

    @Override
    public Integer call() throws IOException {
        GpuDevice gpu = GpuDevice.bind(device);
        LOG.info("device: {}", gpu.describe());
        ObjectNode info = PartFiles.part("device", gpu.target());
        info.set("cuda", PartFiles.JSON.valueToTree(gpu));
        ArrayNode smi = info.putArray("nvidiaSmi");
        if (nvidiaSmi != null && Files.isRegularFile(nvidiaSmi)) {
            Files.readAllLines(nvidiaSmi).stream().map(String::strip).filter(l -> !l.isEmpty()).forEach(smi::add);
        }
        info.set("host", PartFiles.JSON.valueToTree(BenchEnvironment.capture()));
        PartFiles.write(outDir.resolve("device.json"), info);

        DeviceBandwidth bw = DeviceBandwidth.measure((long) bandwidthMib << 20, passes, copies);
        LOG.info("device-to-device copy bandwidth: {}", bw);
        ObjectNode out = PartFiles.part("bandwidth", gpu.target());
        out.put("device", gpu.describe());
        out.put("method", "cuMemcpyDtoDAsync back and forth between two device buffers on one stream, timed with"
                + " CUDA events; each copy counted as read + write (2 x buffer bytes)");
        out.put("bufferBytes", bw.bufferBytes());
        out.put("copiesPerPass", bw.copiesPerPass());
        ArrayNode rates = out.putArray("passGBps");
        bw.passGBps().forEach(r -> rates.add(PartFiles.round(r, 2)));
        out.put("bestGBps", PartFiles.round(bw.bestGBps(), 2));
        out.put("medianGBps", PartFiles.round(bw.medianGBps(), 2));
        PartFiles.write(outDir.resolve("bandwidth.json"), out);
        System.out.println("device: " + gpu.describe());
        System.out.println("copy bandwidth: " + bw);
        return 0;
    }
}
