package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class CpuThreadPoolTest {

    /** Every index is visited exactly once and every chunk starts on a grain boundary, for random splits. */
    @Test
    void coversEachIndexOnceOnGrainBoundaries() {
        Random rnd = new Random(11);
        for (long spin : new long[] {CpuThreadPool.DEFAULT_SPIN_NANOS, 0}) {
            try (CpuThreadPool pool = new CpuThreadPool(1 + rnd.nextInt(4), spin)) {
                for (int trial = 0; trial < 2000; trial++) {
                    int n = rnd.nextInt(300);
                    int grain = 1 + rnd.nextInt(20);
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                    Set<String> misaligned = ConcurrentHashMap.newKeySet();
                    pool.parallelFor(n, grain, (start, end) -> {
                        if (start % grain != 0 || (end != n && end % grain != 0) || start >= end) {
                            misaligned.add(start + ".." + end);
                        }
                        for (int i = start; i < end; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    assertThat(misaligned).as("n=%d grain=%d", n, grain).isEmpty();
                    for (int i = 0; i < n; i++) {
                        assertThat(hits.get(i)).as("n=%d grain=%d index %d", n, grain, i).isEqualTo(1);
                    }
                }
            }
        }
    }

    /**
     * Chunks shrink toward the end of the range, so a thread left waiting on the last one waits on a short one:
     * 2 threads, 8 chunks of 768 rows in grains of 16, the first chunk is several times the last.
     */
    @Test
    void chunksShrinkTowardTheEnd() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            Map<Integer, Integer> sizes = new ConcurrentHashMap<>();
            pool.parallelFor(768, 16, (start, end) -> sizes.put(start, end - start));
            List<Integer> starts = sizes.keySet().stream().sorted().toList();
            assertThat(starts).hasSize(8).startsWith(0);
            int first = sizes.get(starts.get(0));
            int last = sizes.get(starts.get(starts.size() - 1));
            assertThat(first).isGreaterThanOrEqualTo(3 * last);
            assertThat(sizes.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(768);
        }
    }

    /**
     * Back-to-back tasks whose chunk counts alternate (few, then many) with near-empty bodies, so a worker that
     * finished its last chunk keeps racing the caller publishing the next task: no chunk may run twice or be
     * counted in the wrong task (a stale claim once ran a chunk of the next task early and left its count one too
     * high, which hung the caller forever).
     */
    @Test
    void backToBackTasksOfChangingSizeNeverRunAChunkTwice() {
        for (long spin : new long[] {CpuThreadPool.DEFAULT_SPIN_NANOS, 0}) {
            try (CpuThreadPool pool = new CpuThreadPool(2, spin)) {
                for (int trial = 0; trial < 200_000; trial++) {
                    int n = trial % 2 == 0 ? 3 : 22;
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    pool.parallelFor(n, 1, (start, end) -> {
                        for (int i = start; i < end; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertThat(hits.get(i)).as("trial %d index %d", trial, i).isEqualTo(1);
                    }
                }
            }
        }
    }

    /** A computation split over the pool gives the same floats as the serial loop, call after call. */
    @Test
    void resultsEqualSerial() {
        Random rnd = new Random(3);
        float[] a = TestTensors.gaussian(10_000, rnd);
        float[] serial = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            serial[i] = (float) Math.sin(a[i]) * a[i];
        }
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            for (int trial = 0; trial < 500; trial++) {
                float[] out = new float[a.length];
                pool.parallelFor(a.length, 1 + rnd.nextInt(64), (s, e) -> {
                    for (int i = s; i < e; i++) {
                        out[i] = (float) Math.sin(a[i]) * a[i];
                    }
                });
                assertThat(out).isEqualTo(serial);
            }
        }
    }

    @Test
    void usesWorkerThreads() {
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            for (int trial = 0; trial < 200 && seen.size() < 2; trial++) {
                pool.parallelFor(64, 1, (s, e) -> {
                    seen.add(Thread.currentThread());
                    busyWait(200_000);
                });
            }
            assertThat(seen).hasSizeGreaterThan(1);
        }
    }

    @Test
    void exceptionsInWorkersReachTheCallerAndThePoolStaysUsable() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            for (int trial = 0; trial < 100; trial++) {
                int bad = trial % 8;
                assertThatThrownBy(() -> pool.parallelFor(8, 1, (s, e) -> {
                    busyWait(10_000);
                    if (s <= bad && bad < e) {
                        throw boom;
                    }
                })).isSameAs(boom);
            }
            AssertionError error = new AssertionError("error");
            assertThatThrownBy(() -> pool.parallelFor(8, 1, (s, e) -> {
                throw error;
            })).isSameAs(error);
            int[] sum = new int[1];
            pool.parallelFor(1, 1, (s, e) -> sum[0] += e - s);
            AtomicIntegerArray hits = new AtomicIntegerArray(100);
            pool.parallelFor(100, 3, (s, e) -> {
                for (int i = s; i < e; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 100; i++) {
                assertThat(hits.get(i)).isEqualTo(1);
            }
        }
    }

    @Test
    void nestedCallsRunInlineInsteadOfDeadlocking() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(16 * 16);
            pool.parallelFor(16, 1, (s, e) -> {
                for (int i = s; i < e; i++) {
                    int row = i;
                    pool.parallelFor(16, 1, (s2, e2) -> {
                        for (int j = s2; j < e2; j++) {
                            hits.incrementAndGet(row * 16 + j);
                        }
                    });
                }
            });
            for (int i = 0; i < 256; i++) {
                assertThat(hits.get(i)).isEqualTo(1);
            }
        }
    }

    @Test
    void concurrentCallersAreSerialized() throws InterruptedException {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            int callers = 3;
            int calls = 300;
            AtomicIntegerArray hits = new AtomicIntegerArray(callers * 128);
            CountDownLatch go = new CountDownLatch(1);
            Thread[] threads = new Thread[callers];
            for (int c = 0; c < callers; c++) {
                int base = c * 128;
                threads[c] = Thread.ofPlatform().start(() -> {
                    awaitQuietly(go);
                    for (int k = 0; k < calls; k++) {
                        pool.parallelFor(128, 4, (s, e) -> {
                            for (int i = s; i < e; i++) {
                                hits.incrementAndGet(base + i);
                            }
                        });
                    }
                });
            }
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            for (int i = 0; i < callers * 128; i++) {
                assertThat(hits.get(i)).isEqualTo(calls);
            }
        }
    }

    @Test
    void closeStopsTheWorkers() throws InterruptedException {
        CpuThreadPool pool = new CpuThreadPool(3);
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        for (int trial = 0; trial < 200 && seen.size() < 3; trial++) {
            pool.parallelFor(64, 1, (s, e) -> {
                seen.add(Thread.currentThread());
                busyWait(100_000);
            });
        }
        seen.remove(Thread.currentThread());
        assertThat(seen).isNotEmpty().allMatch(Thread::isDaemon);
        pool.close();
        pool.close();
        for (Thread t : seen) {
            t.join(5_000);
            assertThat(t.isAlive()).as(t.getName()).isFalse();
        }
        assertThatThrownBy(() -> pool.parallelFor(4, 1, (s, e) -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new CpuThreadPool(0)).hasMessageContaining("threads must be >= 1");
        assertThatThrownBy(() -> new CpuThreadPool(2, -1)).hasMessageContaining("spinNanos");
        try (CpuThreadPool pool = new CpuThreadPool(1)) {
            assertThatThrownBy(() -> pool.parallelFor(4, 0, (s, e) -> { })).hasMessageContaining("grain");
        }
    }

    private static void busyWait(long nanos) {
        long start = System.nanoTime();
        while (System.nanoTime() - start < nanos) {
            Thread.onSpinWait();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
