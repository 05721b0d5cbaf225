package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import dev.bulkhead.ffi.Handles.Event;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Streams behave as on a GPU at its furthest behind the host: queued work runs later, in order, when waited
 * for; an async copy reads page-locked memory when it runs, not when it is queued.
 */
@ExtendWith(EmulatorSeedReporter.class)
class StreamSemanticsTest {

    private static final String COPY = "bkemu_probe_copy(ptr out, ptr in, i32 n)";

    private static void fill(MemorySegment host, float value, int n) {
        for (int i = 0; i < n; i++) {
            host.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
        }
    }

    @Test
    void queuedWorkRunsLaterAndInOrder() {
        try (Probes p = new Probes()) {
            int n = 64;
            DevicePtr a = p.floats(new float[n]);
            DevicePtr b = p.alloc(4L * n);
            DevicePtr c = p.alloc(4L * n);
            long before = CudaEmulator.stats().launches();
            p.launch(COPY, Dim3.of(1), Dim3.of(n), 0, b, a, n);
            p.launch(COPY, Dim3.of(1), Dim3.of(n), 0, c, b, n);
            assertThat(CudaEmulator.stats().launches()).as("nothing has waited yet").isEqualTo(before);
            p.sync();
            assertThat(CudaEmulator.stats().launches()).isEqualTo(before + 2);
            assertThat(p.readFloats(c, n)).containsOnly(0f);
        }
    }

    @Test
    void anAsyncCopyOfAReusedPinnedBufferGivesTheWrongAnswerAsOnAGpu() {
        try (Probes p = new Probes()) {
            int n = 32;
            MemorySegment staging = p.ctx.pinned(4L * n);
            DevicePtr dev = p.alloc(4L * n);
            fill(staging, 1f, n);
            CudaMemory.copyHtoDAsync(dev, staging, 4L * n, p.stream);
            fill(staging, 9f, n); // reused before the copy ran
            assertThat(p.readFloats(dev, n)).as("the copy read the buffer when it ran").containsOnly(9f);
        }
    }

    @Test
    void waitingForTheCopysEventBeforeReuseGivesTheRightAnswer() {
        try (Probes p = new Probes()) {
            int n = 32;
            MemorySegment staging = p.ctx.pinned(4L * n);
            DevicePtr dev = p.alloc(4L * n);
            Event copied = p.ctx.createEvent();
            fill(staging, 1f, n);
            CudaMemory.copyHtoDAsync(dev, staging, 4L * n, p.stream);
            CudaDriver.eventRecord(copied, p.stream);
            CudaDriver.eventSynchronize(copied);
            fill(staging, 9f, n);
            assertThat(p.readFloats(dev, n)).containsOnly(1f);
        }
    }

    @Test
    void aPageableSourceIsStagedWhenTheCopyIsQueuedAsTheDriverDoes() {
        try (Probes p = new Probes(); Arena arena = Arena.ofConfined()) {
            int n = 32;
            MemorySegment pageable = arena.allocate(4L * n, 4);
            DevicePtr dev = p.alloc(4L * n);
            fill(pageable, 1f, n);
            CudaMemory.copyHtoDAsync(dev, pageable, 4L * n, p.stream);
            fill(pageable, 9f, n);
            assertThat(p.readFloats(dev, n)).containsOnly(1f);
        }
    }

    @Test
    void anEventRunsTheStreamOnlyUpToItsRecord() {
        try (Probes p = new Probes()) {
            int n = 64;
            DevicePtr a = p.floats(new float[n]);
            DevicePtr b = p.alloc(4L * n);
            Event first = p.ctx.createEvent();
            long before = CudaEmulator.stats().launches();
            p.launch(COPY, Dim3.of(1), Dim3.of(n), 0, b, a, n);
            CudaDriver.eventRecord(first, p.stream);
            p.launch(COPY, Dim3.of(1), Dim3.of(n), 0, b, a, n);
            assertThat(CudaDriver.eventQuery(first)).as("queried before it ran").isFalse();
            CudaDriver.eventSynchronize(first);
            assertThat(CudaEmulator.stats().launches()).isEqualTo(before + 1);
            assertThat(CudaDriver.eventQuery(first)).isTrue();
        }
    }

    @Test
    void elapsedTimeWorksOnADriverWithoutTheV2Symbol() {
        // NOTE: the emulator is a 12.4-level driver: only cuEventElapsedTime, as drivers before 12.8.
        try (Probes p = new Probes()) {
            Event start = p.ctx.createEvent();
            Event end = p.ctx.createEvent();
            CudaDriver.eventRecord(start, p.stream);
            p.launch("bkemu_probe_nothing()", Dim3.of(1), Dim3.of(32), 0);
            CudaDriver.eventRecord(end, p.stream);
            CudaDriver.eventSynchronize(end);
            assertThat(CudaDriver.eventElapsedMillis(start, end)).isGreaterThanOrEqualTo(0f);
        }
    }

    @Test
    void aStreamWaitsForAnEventOfAnother() {
        try (Probes p = new Probes()) {
            int n = 64;
            var other = p.ctx.createStream();
            MemorySegment staging = p.ctx.pinned(4L * n);
            fill(staging, 3f, n);
            DevicePtr a = p.alloc(4L * n);
            DevicePtr b = p.alloc(4L * n);
            Event copied = p.ctx.createEvent();
            CudaMemory.copyHtoDAsync(a, staging, 4L * n, other);
            CudaDriver.eventRecord(copied, other);
            CudaDriver.streamWaitEvent(p.stream, copied);
            p.launch(COPY, Dim3.of(1), Dim3.of(n), 0, b, a, n);
            assertThat(p.readFloats(b, n)).containsOnly(3f);
        }
    }
}
