package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaException;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import dev.bulkhead.ffi.Handles.Graph;
import dev.bulkhead.ffi.Handles.GraphExec;
import dev.bulkhead.ffi.Handles.Stream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Stream capture records what is queued; a graph launch replays it; what the driver forbids fails as it does. */
@ExtendWith(EmulatorSeedReporter.class)
class GraphCaptureTest {

    private static final String COPY = "bkemu_probe_copy(ptr out, ptr in, i32 n)";

    private static int code(Runnable call) {
        try {
            call.run();
            return 0;
        } catch (CudaException e) {
            return e.code();
        }
    }

    @Test
    void aCapturedSequenceRunsOnlyWhenLaunchedAndReadsPinnedInputAtReplay() {
        try (Probes p = new Probes()) {
            int n = 16;
            MemorySegment input = p.ctx.pinned(4L * n);
            DevicePtr staged = p.alloc(4L * n);
            DevicePtr out = p.alloc(4L * n);
            long before = CudaEmulator.stats().launches();
            CudaDriver.streamBeginCapture(p.stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
            CudaMemory.copyHtoDAsync(staged, input, 4L * n, p.stream);
            p.launch(COPY, Dim3.of(1), Dim3.of(n), 0, out, staged, n);
            Graph g = CudaDriver.streamEndCapture(p.stream);
            GraphExec exec = CudaDriver.graphInstantiate(g);
            assertThat(CudaEmulator.stats().launches()).as("capture runs nothing").isEqualTo(before);
            for (float v : new float[] {2f, 5f}) {
                for (int i = 0; i < n; i++) {
                    input.setAtIndex(ValueLayout.JAVA_FLOAT, i, v + i);
                }
                CudaDriver.graphLaunch(exec, p.stream);
                float[] got = p.readFloats(out, n);
                assertThat(got[0]).isEqualTo(v);
                assertThat(got[n - 1]).isEqualTo(v + n - 1);
            }
            assertThat(CudaEmulator.stats().launches()).isEqualTo(before + 2);
            CudaDriver.graphExecDestroy(exec);
            CudaDriver.graphDestroy(g);
        }
    }

    @Test
    void anAllocationDuringCaptureIsRefusedAndInvalidatesTheCapture() {
        try (Probes p = new Probes()) {
            CudaDriver.streamBeginCapture(p.stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
            assertThat(code(() -> CudaMemory.alloc(64))).as("cuMemAlloc during capture").isEqualTo(900);
            assertThat(code(() -> CudaDriver.streamEndCapture(p.stream))).isEqualTo(901);
        }
    }

    @Test
    void synchronizingTheCapturingStreamIsRefused() {
        try (Probes p = new Probes()) {
            CudaDriver.streamBeginCapture(p.stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
            assertThat(code(() -> CudaDriver.streamSynchronize(p.stream))).isEqualTo(900);
            assertThat(code(() -> CudaDriver.streamEndCapture(p.stream))).isEqualTo(901);
        }
    }

    @Test
    void aPageableCopyCannotBeCaptured() {
        try (Probes p = new Probes(); var arena = java.lang.foreign.Arena.ofConfined()) {
            DevicePtr dev = p.alloc(64);
            CudaDriver.streamBeginCapture(p.stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
            assertThat(code(() -> CudaMemory.copyHtoDAsync(dev, arena.allocate(64), 64, p.stream))).isEqualTo(900);
            assertThat(code(() -> CudaDriver.streamEndCapture(p.stream))).isEqualTo(901);
        }
    }

    @Test
    void theLegacyStreamCannotBeCapturedAndCaptureEndsOnTheThreadThatBeganIt() throws Exception {
        try (Probes p = new Probes()) {
            assertThat(code(() -> CudaDriver.streamBeginCapture(Stream.DEFAULT, CudaDriver.CAPTURE_MODE_THREAD_LOCAL)))
                    .isEqualTo(900);
            CudaDriver.streamBeginCapture(p.stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
            int fromOtherThread = CompletableFuture.supplyAsync(() -> {
                p.ctx.makeCurrent();
                return code(() -> CudaDriver.streamEndCapture(p.stream));
            }).get();
            assertThat(fromOtherThread).isEqualTo(908);
            assertThat(code(() -> CudaDriver.streamBeginCapture(p.stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL)))
                    .as("already capturing").isEqualTo(401);
            assertThat(code(() -> CudaDriver.streamEndCapture(p.stream))).isZero();
        }
    }

    @Test
    void captureAcrossStreamsIsNotEmulatedAndSaysSo() {
        // NOTE: a deviation: a GPU captures a fork/join across streams into one graph; the emulator records one
        // stream and refuses a dependency on work outside the capture (CUDA_ERROR_STREAM_CAPTURE_ISOLATION).
        try (Probes p = new Probes()) {
            var other = p.ctx.createStream();
            var e = p.ctx.createEvent();
            CudaDriver.eventRecord(e, other);
            CudaDriver.streamBeginCapture(p.stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
            assertThat(code(() -> CudaDriver.streamWaitEvent(p.stream, e))).isEqualTo(905);
            assertThat(code(() -> CudaDriver.streamEndCapture(p.stream))).isEqualTo(901);
        }
    }
}
