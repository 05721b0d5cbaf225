package dev.bulkhead.bench;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.internal.cpu.BlasGemm;
import dev.bulkhead.engine.internal.cpu.CpuGemmSettings;
import dev.bulkhead.engine.internal.cpu.CpuThreadPool;
import dev.bulkhead.engine.internal.cpu.WeightMatrices;
import dev.bulkhead.engine.internal.cpu.WeightMatrix;
import dev.bulkhead.model.tensor.DType;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * One matrix-vector (tokens = 1, decode) or matrix-matrix (tokens = 8, a small batch) product with a
 * 4096 x 4096 weight matrix in each storage type, split over 1 or 2 threads with
 * {@link WeightMatrices#parallelMultiply}.
 *
 * <p>The score is products per second. Two {@link AuxCounters} add rates in the same "ops/s" column:
 * {@code gflops}, incremented by 2 * rows * cols * tokens / 1e9 per product, reads as GFLOP/s, and
 * {@code gbytes}, incremented by the weight bytes / 1e9 (each byte streamed once whatever the token count),
 * reads as GB/s. Compare {@code gbytes} with {@link MemoryBandwidthBenchmark}.
 *
 * <p>{@code gemm} picks the code: {@code java} (the kernels), {@code openblas} (cblas_sgemm with activations
 * passed in place) or {@code openblas-copy} (activations copied through native buffers), the BLAS ones at
 * every token count; they need OpenBLAS installed.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/bulkhead-benchmarks.jar
 * MatmulBenchmark -f 1 -wi 2 -i 3 -w 1 -r 1}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
@State(Scope.Benchmark)
public class MatmulBenchmark {

    @Param({"F32", "BF16", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public DType dtype;

    @Param({"1", "8"})
    public int tokens;

    @Param({"1", "2"})
    public int threads;

    @Param({"java"})
    public String gemm;

    @Param({"4096"})
    public int rows;

    @Param({"4096"})
    public int cols;

    private Arena arena;
    private CpuThreadPool pool;
    private WeightMatrix matrix;
    private BlasGemm blas;
    private float[] x;
    private float[] out;

    /** Per-product rates, accumulated by each measurement thread and reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double gflops;
        public double gbytes;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
            gbytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        matrix = WeightMatrices.of(WeightFactory.random(arena, dtype, rows, cols, 42));
        pool = new CpuThreadPool(threads);
        blas = blasFor(gemm);
        SplittableRandom rnd = new SplittableRandom(7);
        x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() - 0.5);
        }
        out = new float[tokens * rows];
    }

    /** The BLAS path for {@code gemm} at every token count, or null for the Java kernels. */
    static BlasGemm blasFor(String gemm) {
        return switch (gemm) {
            case "java" -> null;
            case "openblas" -> BlasGemm.create(new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 1, true));
            case "openblas-copy" -> BlasGemm.create(new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 1, false));
            default -> throw new IllegalArgumentException("gemm must be java, openblas or openblas-copy: " + gemm);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (blas != null) {
            blas.close();
        }
        pool.close();
        arena.close();
    }

    @Benchmark
    public float multiply(Rates rates) {
        if (blas != null) {
            blas.multiply(pool, matrix, x, tokens, out);
        } else {
            WeightMatrices.parallelMultiply(pool, matrix, x, tokens, out);
        }
        rates.gflops += 2e-9 * rows * cols * tokens;
        rates.gbytes += 1e-9 * dtype.byteSize((long) rows * cols);
        return out[0];
    }
}
