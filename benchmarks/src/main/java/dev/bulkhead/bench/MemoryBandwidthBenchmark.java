package dev.bulkhead.bench;

import dev.bulkhead.engine.internal.cpu.CpuThreadPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * STREAM-like read bandwidth: sums a segment far larger than the caches with the same vector loads the
 * F32 matmul uses, on 1 or 2 threads. {@code gbytes} (an {@link AuxCounters} rate) is GB/s read, the
 * ceiling for a memory-bound decode matmul's GB/s in {@link MatmulBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx1g"})
@State(Scope.Benchmark)
public class MemoryBandwidthBenchmark {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK_BYTES = 1 << 20;

    @Param({"1", "2"})
    public int threads;

    /** 512 MiB: 16 times the L3 of the machines we measure on. */
    @Param({"536870912"})
    public long bytes;

    private Arena arena;
    private MemorySegment data;
    private CpuThreadPool pool;
    private float[] partial;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double gbytes;

        @Setup(Level.Iteration)
        public void reset() {
            gbytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        data = arena.allocate(bytes, 64);
        data.fill((byte) 1);
        pool = new CpuThreadPool(threads);
        partial = new float[(int) (bytes / CHUNK_BYTES)];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float sum(Rates rates) {
        pool.parallelFor(partial.length, 1, (start, end) -> {
            for (int c = start; c < end; c++) {
                partial[c] = sumChunk((long) c * CHUNK_BYTES);
            }
        });
        rates.gbytes += 1e-9 * bytes;
        float total = 0;
        for (float p : partial) {
            total += p;
        }
        return total;
    }

    private float sumChunk(long offset) {
        int step = SPECIES.vectorByteSize();
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (long o = offset; o < offset + CHUNK_BYTES; o += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(SPECIES, data, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(SPECIES, data, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(SPECIES, data, o + 2L * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(SPECIES, data, o + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }
}
