package dev.bulkhead.bench.gpu;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Event;
import dev.bulkhead.ffi.Handles.Stream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Device memory bandwidth as a copy sees it: {@code cuMemcpyDtoDAsync} between two device buffers far larger
 * than the L2 cache, back and forth on one stream, timed with CUDA events. Each copy reads and writes its size,
 * so a pass moves {@code 2 × bytes × copies}; that is the figure a decode step's weight reads are held against
 * (the convention of CUDA's bandwidthTest and of published HBM figures).
 *
 * @param bufferBytes   size of each of the two buffers
 * @param copiesPerPass copies timed together between one pair of events
 * @param passGBps      each pass's rate in GB/s (1e9 bytes), in order
 */
public record DeviceBandwidth(long bufferBytes, int copiesPerPass, List<Double> passGBps) {

    public DeviceBandwidth {
        if (passGBps.isEmpty()) {
            throw new IllegalArgumentException("passGBps must hold at least one pass");
        }
        passGBps = List.copyOf(passGBps);
    }

    /** The fastest pass (other work on the device only ever slows a pass down). */
    public double bestGBps() {
        return passGBps.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }

    public double medianGBps() {
        double[] s = passGBps.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * Measures on device 0 of the bound CUDA (see {@link GpuDevice#bind}).
     *
     * @param bufferBytes   each buffer's size, a multiple of 4
     * @param passes        timed passes
     * @param copiesPerPass copies per pass
     */
    public static DeviceBandwidth measure(long bufferBytes, int passes, int copiesPerPass) {
        if (bufferBytes < 4 || bufferBytes % 4 != 0) {
            throw new IllegalArgumentException("bufferBytes must be a positive multiple of 4, got " + bufferBytes);
        }
        if (passes < 1 || copiesPerPass < 1) {
            throw new IllegalArgumentException("passes and copiesPerPass must be >= 1, got " + passes + ", "
                    + copiesPerPass);
        }
        try (CudaContext ctx = CudaContext.open(0)) {
            DevicePtr a = ctx.alloc(bufferBytes).ptr();
            DevicePtr b = ctx.alloc(bufferBytes).ptr();
            // NOTE: written once so no page is first touched inside a timed copy.
            CudaMemory.setD32(a, 0x3f3f3f3f, bufferBytes / 4);
            CudaMemory.setD32(b, 0, bufferBytes / 4);
            ctx.synchronize();
            Stream stream = ctx.createStream();
            Event start = ctx.createEvent();
            Event end = ctx.createEvent();
            CudaMemory.copyDtoDAsync(b, a, bufferBytes, stream);
            CudaDriver.streamSynchronize(stream);
            List<Double> rates = new ArrayList<>();
            for (int p = 0; p < passes; p++) {
                CudaDriver.eventRecord(start, stream);
                for (int i = 0; i < copiesPerPass; i++) {
                    boolean forth = i % 2 == 0;
                    CudaMemory.copyDtoDAsync(forth ? b : a, forth ? a : b, bufferBytes, stream);
                }
                CudaDriver.eventRecord(end, stream);
                CudaDriver.eventSynchronize(end);
                double seconds = CudaDriver.eventElapsedMillis(start, end) / 1e3;
                if (!(seconds > 0)) {
                    throw new IllegalStateException("CUDA events timed " + copiesPerPass + " copies of " + bufferBytes
                            + " bytes at " + seconds + " s; cannot compute a bandwidth");
                }
                rates.add(2.0 * bufferBytes * copiesPerPass / seconds / 1e9);
            }
            return new DeviceBandwidth(bufferBytes, copiesPerPass, rates);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.1f GB/s best, %.1f median (%d MiB buffers, %d copies a pass, passes %s)", bestGBps(),
                medianGBps(), bufferBytes >> 20, copiesPerPass, Arrays.toString(passGBps.toArray()));
    }
}
