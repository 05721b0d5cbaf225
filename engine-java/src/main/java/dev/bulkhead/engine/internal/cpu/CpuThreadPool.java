package dev.bulkhead.engine.internal.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of platform threads that splits index ranges between them. The calling thread takes a share
 * of the work too, so a pool of N threads keeps N cores busy with N-1 workers.
 *
 * <p>A decode step calls {@link #parallelFor} thousands of times per second, so the hand-off is built for
 * latency: a call publishes its task by bumping a generation counter, idle workers spin on that counter for
 * a short while ({@code spinNanos}) before parking, and chunks are claimed with one CAS each. A call
 * allocates nothing. Work is split into up to four chunks per thread, largest first (see {@link #chunkStart}),
 * and claimed dynamically, so a worker that the OS descheduled does not hold the step hostage.
 *
 * <p>One call runs at a time: concurrent callers queue on a lock. A nested call (from inside a body, on the
 * caller or a worker) runs serially on the calling thread instead of deadlocking.
 */
public final class CpuThreadPool implements AutoCloseable {

    /** Body of a parallel loop: handles indices [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** How long an idle worker or a waiting caller spins before parking, by default. */
    public static final long DEFAULT_SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    private static final int CHUNKS_PER_THREAD = 4;
    private static final VarHandle STATE;
    private static final VarHandle DONE;
    private static final VarHandle FAILURE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(CpuThreadPool.class, "state", long.class);
            DONE = lookup.findVarHandle(CpuThreadPool.class, "done", int.class);
            FAILURE = lookup.findVarHandle(CpuThreadPool.class, "failure", Throwable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int threads;
    private final long spinNanos;
    private final Worker[] workers;
    private final Object submitLock = new Object();

    /**
     * One published task, immutable, tagged with its generation.
     *
     * @param generation the generation it belongs to
     * @param body       the range body
     * @param length     n
     * @param grain      chunk boundaries are multiples of it
     * @param units      grains in all
     * @param chunks     chunks in all
     */
    private record Task(int generation, RangeBody body, int length, int grain, int units, int chunks) {
    }

    // NOTE: the caller writes `task` before it publishes the generation in `state`. A worker holding an old
    // `state` may read the next task already (it is written while the old generation's state is still there),
    // so it only claims a chunk when the task's generation is the state's: claiming by the old state with the
    // new task's chunk count once ran a chunk of the next task early and counted it in that task, one too many.
    private volatile Task task;

    /** Generation in the high 32 bits, next unclaimed chunk in the low 32. */
    private volatile long state;
    private volatile int done;
    private volatile Throwable failure;
    private volatile Thread waiter;
    private volatile boolean closed;
    private volatile Thread owner;

    /** A pool of {@code threads} threads in all (the caller plus {@code threads - 1} workers). */
    public CpuThreadPool(int threads) {
        this(threads, DEFAULT_SPIN_NANOS);
    }

    /**
     * @param threads   threads in all, the caller included; at least 1
     * @param spinNanos how long idle threads spin before parking; 0 parks at once (saves CPU, costs latency)
     */
    public CpuThreadPool(int threads, long spinNanos) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spinNanos must be >= 0, got " + spinNanos);
        }
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) split into contiguous chunks and returns when all are done. Chunk
     * boundaries are multiples of {@code grain} (except the end, n) so vectorized bodies get aligned ranges.
     * The first exception thrown by any chunk is rethrown here once every chunk has finished or been skipped.
     *
     * @throws IllegalArgumentException when {@code grain < 1}
     * @throws IllegalStateException    when the pool is closed
     */
    public void parallelFor(int n, int grain, RangeBody body) {
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        }
        if (closed) {
            throw new IllegalStateException("CpuThreadPool is closed");
        }
        if (n <= 0) {
            return;
        }
        int unitCount = (int) ((n + (long) grain - 1) / grain);
        int chunkCount = Math.min(unitCount, threads * CHUNKS_PER_THREAD);
        Thread current = Thread.currentThread();
        if (chunkCount == 1 || workers.length == 0 || isNested(current)) {
            body.run(0, n);
            return;
        }
        synchronized (submitLock) {
            owner = current;
            try {
                runTask(n, grain, unitCount, chunkCount, body);
            } finally {
                owner = null;
            }
        }
    }

    private boolean isNested(Thread current) {
        return owner == current || (current instanceof Worker w && w.pool() == this);
    }

    private void runTask(int n, int grainSize, int unitCount, int chunkCount, RangeBody body) {
        int generation = generation(state) + 1;
        failure = null;
        done = 0;
        task = new Task(generation, body, n, grainSize, unitCount, chunkCount);
        state = (long) generation << 32;
        for (Worker w : workers) {
            if (w.parked) {
                LockSupport.unpark(w);
            }
        }
        runChunks(generation);
        awaitDone(chunkCount);
        // NOTE: a finished task keeps its body reachable until the next one replaces it; the body holds no more
        // than the step's own arrays.
        Throwable f = failure;
        failure = null;
        if (f != null) {
            rethrow(f);
        }
    }

    /** Claims and runs chunks of {@code generation} until none is left or a newer task was published. */
    private void runChunks(int generation) {
        while (true) {
            long s = state;
            if (generation(s) != generation) {
                return;
            }
            int chunk = (int) s;
            Task t = task;
            if (t == null || t.generation() != generation) {
                // The next task is written but `s` is the old generation's: every chunk of ours is claimed.
                return;
            }
            int chunkCount = t.chunks();
            if (chunk >= chunkCount) {
                return;
            }
            if (!STATE.compareAndSet(this, s, s + 1)) {
                continue;
            }
            try {
                if (failure == null) {
                    int start = chunkStart(t, chunk);
                    int end = chunkStart(t, chunk + 1);
                    if (start < end) {
                        t.body().run(start, end);
                    }
                }
            } catch (Throwable e) {
                FAILURE.compareAndSet(this, null, e);
            } finally {
                int finished = (int) DONE.getAndAdd(this, 1) + 1;
                if (finished == chunkCount) {
                    Thread w = waiter;
                    if (w != null) {
                        LockSupport.unpark(w);
                    }
                }
            }
        }
    }

    /**
     * First index of chunk {@code chunk} (chunk {@code chunks} starts at the end). NOTE: chunks shrink from
     * about twice the mean size at the start to a small fraction of it at the end (a rounded
     * {@code 1 - (1 - i/C)^2} of the grains lie before chunk i), so the last chunks, the ones a thread can be
     * left waiting on, are short. With equal chunks the caller waited for the other thread during 5-8% of a
     * stories110M decode step (2 threads); with these, 1-3%. Boundaries stay on grain multiples; a chunk can
     * come out empty when there are few grains, and then does not run.
     */
    private static int chunkStart(Task t, int chunk) {
        long c = t.chunks();
        long left = c - chunk;
        long units = t.units() - (t.units() * left * left + c * c / 2) / (c * c);
        return (int) Math.min(t.length(), units * t.grain());
    }

    private void awaitDone(int chunkCount) {
        long start = System.nanoTime();
        while (done != chunkCount) {
            if (System.nanoTime() - start < spinNanos) {
                Thread.onSpinWait();
                continue;
            }
            waiter = Thread.currentThread();
            if (done != chunkCount) {
                LockSupport.park(this);
            }
            waiter = null;
        }
    }

    private static int generation(long state) {
        return (int) (state >>> 32);
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("parallel task failed", t);
    }

    /** Stops the workers (they finish the chunk they are on) and waits briefly for them to exit. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
        for (Worker w : workers) {
            try {
                w.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(int index) {
            super("bulkhead-cpu-" + index);
            setDaemon(true);
        }

        CpuThreadPool pool() {
            return CpuThreadPool.this;
        }

        @Override
        public void run() {
            int seen = generation(state);
            while (true) {
                int next = awaitGeneration(seen);
                if (closed) {
                    return;
                }
                seen = next;
                runChunks(seen);
            }
        }

        /** Spins, then parks, until a generation other than {@code seen} is published or the pool closes. */
        private int awaitGeneration(int seen) {
            long start = System.nanoTime();
            while (true) {
                int g = generation(state);
                if (g != seen || closed) {
                    return g;
                }
                if (System.nanoTime() - start < spinNanos) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                // NOTE: re-check after announcing the park: the caller reads `parked` after publishing, so
                // either we see the new generation here or it sees `parked` and unparks us.
                if (generation(state) == seen && !closed) {
                    LockSupport.park(this);
                }
                parked = false;
                start = System.nanoTime();
            }
        }
    }
}
