package dev.bulkhead.ffi;

import static dev.bulkhead.ffi.Downcalls.rethrow;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * What the CUDA emulator knows about a kernel fault that a driver status cannot say (the kernel, thread and
 * address of an out-of-bounds access, the barrier a thread never reached), added to the message of the
 * exception for a sticky error. The NVIDIA driver has no such call; on it this adds nothing.
 */
final class EmulatorReport {

    private EmulatorReport() {
    }

    /** {@code detail} plus the emulator's report when {@code code} is a device fault seen under the emulator. */
    static String append(int code, String detail) {
        boolean fault = code == 700 || (code >= 710 && code <= 719);
        if (!fault || !CudaLibraries.emulated()) {
            return detail;
        }
        String report = read();
        if (report.isEmpty()) {
            return detail;
        }
        return (detail == null || detail.isEmpty() ? "" : detail + "; ") + "emulator: " + report;
    }

    private static String read() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            int n = (int) DriverHandles.bkemuErrorReport.invokeExact(buf, 4096L);
            return n <= 0 ? "" : buf.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            if (t instanceof CudaException) {
                return "";
            }
            throw rethrow(t);
        }
    }
}
