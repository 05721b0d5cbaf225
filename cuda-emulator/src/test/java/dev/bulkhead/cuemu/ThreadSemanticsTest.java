package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CudaException;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How the emulator runs a block's threads: real barriers, lockstep warp collectives, an order drawn per launch
 * that exposes races, and synccheck-style errors instead of hangs.
 */
@ExtendWith(EmulatorSeedReporter.class)
class ThreadSemanticsTest {

    private static final String NEIGHBOUR = "bkemu_probe_shared_neighbour(ptr out, i32 with_barrier)";

    @Test
    void aBarrierThatHalfTheBlockNeverReachesIsAnErrorNotAHang() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4 * 64);
            p.launch("bkemu_probe_divergent_barrier(ptr out)", Dim3.of(1), Dim3.of(64), 0, out);
            assertThatThrownBy(p::sync).isInstanceOfSatisfying(CudaException.class, e -> {
                assertThat(e.codeName()).isEqualTo("CUDA_ERROR_LAUNCH_FAILED");
                assertThat(e.getMessage()).contains("Barrier error", "probes.cuh:21", "reached by 32 of 64 threads",
                        "bkemu_probe_divergent_barrier");
            });
        }
    }

    @Test
    void threadsWaitingAtTwoDifferentBarriersAreReported() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4 * 64);
            p.launch("bkemu_probe_two_barriers(ptr out)", Dim3.of(1), Dim3.of(64), 0, out);
            assertThatThrownBy(p::sync).isInstanceOf(CudaException.class)
                    .hasMessageContaining("divergent __syncthreads").hasMessageContaining("probes.cuh:28")
                    .hasMessageContaining("probes.cuh:31");
        }
    }

    @Test
    void theShuffledThreadOrderExposesAMissingBarrier() {
        try (Probes p = new Probes()) {
            int n = 256;
            DevicePtr out = p.alloc(4L * n);
            // With the barrier every thread reads its neighbour's index, whatever the order.
            for (int launch = 0; launch < 8; launch++) {
                p.launch(NEIGHBOUR, Dim3.of(1), Dim3.of(n), 0, out, 1);
                int[] got = p.readInts(out, n);
                for (int t = 0; t < n; t++) {
                    assertThat(got[t]).as("launch %d thread %d with the barrier", launch, t).isEqualTo((t + 1) % n);
                }
            }
            // Without it, a thread that runs before its neighbour reads the poisoned slot (-1).
            int wrong = 0;
            for (int launch = 0; launch < 4; launch++) {
                p.launch(NEIGHBOUR, Dim3.of(1), Dim3.of(n), 0, out, 0);
                int[] got = p.readInts(out, n);
                for (int t = 0; t < n; t++) {
                    if (got[t] != (t + 1) % n) {
                        assertThat(got[t]).as("an unwritten slot reads as poison").isEqualTo(-1);
                        wrong++;
                    }
                }
            }
            assertThat(wrong).as("reads of a neighbour's slot that ran before it was written").isGreaterThan(0);
        }
    }

    @Test
    void warpShufflesExchangeValuesAmongAllLanesOfTheMask() {
        try (Probes p = new Probes()) {
            int n = 96;
            DevicePtr out = p.alloc(16L * n);
            p.launch("bkemu_probe_shuffles(ptr out)", Dim3.of(1), Dim3.of(n), 0, out);
            int[] got = p.readInts(out, 4 * n);
            int sumOfSquares = 0;
            for (int l = 0; l < 32; l++) {
                sumOfSquares += l * l;
            }
            for (int t = 0; t < n; t++) {
                int lane = t % 32;
                assertThat(got[4 * t]).as("xor butterfly sum, thread %d", t).isEqualTo(sumOfSquares);
                assertThat(got[4 * t + 1]).as("broadcast of lane 7, thread %d", t).isEqualTo(49);
                assertThat(got[4 * t + 2]).as("up by 1, thread %d", t).isEqualTo(lane == 0 ? 0 : (lane - 1) * (lane - 1));
                assertThat(got[4 * t + 3]).as("down by 2, thread %d", t).isEqualTo(lane >= 30 ? lane * lane : (lane + 2) * (lane + 2));
            }
        }
    }

    @Test
    void aLaneOfTheMaskThatNeverArrivesIsAnError() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4 * 64);
            p.launch("bkemu_probe_shuffle_missing_lane(ptr out, i32 missing)", Dim3.of(1), Dim3.of(64), 0, out, 5);
            assertThatThrownBy(p::sync).isInstanceOf(CudaException.class).hasMessageContaining("CUDA_ERROR_LAUNCH_FAILED")
                    .hasMessageContaining("exited while lanes").hasMessageContaining("common.cuh");
        }
    }

    @Test
    void blockReductionsThroughSharedScratchAndBarriersAreExact() {
        try (Probes p = new Probes()) {
            int blocks = 7;
            int n = 1000;
            float[] in = new float[blocks * n];
            float[] expected = new float[blocks];
            for (int i = 0; i < in.length; i++) {
                in[i] = (i % 13) - 6;
                expected[i / n] += in[i];
            }
            DevicePtr src = p.floats(in);
            DevicePtr out = p.alloc(4L * blocks);
            p.launch("bkemu_probe_block_sum(ptr out, ptr in, i32 n)", Dim3.of(blocks), Dim3.of(256), 0, out, src, n);
            assertThat(p.readFloats(out, blocks)).containsExactly(expected);
        }
    }
}
