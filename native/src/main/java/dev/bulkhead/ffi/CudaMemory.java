package dev.bulkhead.ffi;

import static dev.bulkhead.ffi.Downcalls.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.bulkhead.ffi.Handles.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Driver memory functions: device and pinned host allocation, copies and fills. Copies take host memory as
 * {@link MemorySegment}s (heap segments are refused by the linker for async copies, so use pinned or native
 * segments there).
 */
public final class CudaMemory {

    /** Free and total device memory of the current context's device, in bytes. */
    public record Info(long free, long total) {
    }

    private CudaMemory() {
    }

    public static Info info() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            CudaDriver.check("cuMemGetInfo_v2", (int) DriverHandles.cuMemGetInfo.invokeExact(free, total));
            return new Info(free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static DevicePtr alloc(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device allocation needs bytes > 0, got " + bytes);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            int r = (int) DriverHandles.cuMemAlloc.invokeExact(p, bytes);
            if (r != 0) {
                throw CudaException.of("cuMemAlloc_v2", r, bytes + " bytes");
            }
            return new DevicePtr(p.get(JAVA_LONG, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void free(DevicePtr p) {
        int r;
        try {
            r = (int) DriverHandles.cuMemFree.invokeExact(p.address());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemFree_v2", r);
    }

    /** Page-locked host memory of {@code bytes}, usable for async copies; free with {@link #freeHost}. */
    public static MemorySegment hostAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) DriverHandles.cuMemHostAlloc.invokeExact(p, bytes, 0);
            if (r != 0) {
                throw CudaException.of("cuMemHostAlloc", r, bytes + " bytes");
            }
            return p.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void freeHost(MemorySegment pinned) {
        int r;
        try {
            r = (int) DriverHandles.cuMemFreeHost.invokeExact(pinned);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemFreeHost", r);
    }

    /** Sets {@code count} bytes at {@code dst} to {@code value}. */
    public static void setD8(DevicePtr dst, byte value, long count) {
        int r;
        try {
            r = (int) DriverHandles.cuMemsetD8.invokeExact(dst.address(), value, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemsetD8_v2", r);
    }

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value}. */
    public static void setD32(DevicePtr dst, int value, long count) {
        int r;
        try {
            r = (int) DriverHandles.cuMemsetD32.invokeExact(dst.address(), value, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemsetD32_v2", r);
    }

    public static void copyHtoD(DevicePtr dst, MemorySegment src, long bytes) {
        int r;
        try {
            r = (int) DriverHandles.cuMemcpyHtoD.invokeExact(dst.address(), src, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemcpyHtoD_v2", r);
    }

    public static void copyDtoH(MemorySegment dst, DevicePtr src, long bytes) {
        int r;
        try {
            r = (int) DriverHandles.cuMemcpyDtoH.invokeExact(dst, src.address(), bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemcpyDtoH_v2", r);
    }

    public static void copyDtoD(DevicePtr dst, DevicePtr src, long bytes) {
        int r;
        try {
            r = (int) DriverHandles.cuMemcpyDtoD.invokeExact(dst.address(), src.address(), bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemcpyDtoD_v2", r);
    }

    /** Async host→device copy on {@code stream}; {@code src} must be pinned to be truly asynchronous. */
    public static void copyHtoDAsync(DevicePtr dst, MemorySegment src, long bytes, Stream stream) {
        int r;
        try {
            r = (int) DriverHandles.cuMemcpyHtoDAsync.invokeExact(dst.address(), src, bytes, stream.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemcpyHtoDAsync_v2", r);
    }

    public static void copyDtoHAsync(MemorySegment dst, DevicePtr src, long bytes, Stream stream) {
        int r;
        try {
            r = (int) DriverHandles.cuMemcpyDtoHAsync.invokeExact(dst, src.address(), bytes, stream.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemcpyDtoHAsync_v2", r);
    }

    public static void copyDtoDAsync(DevicePtr dst, DevicePtr src, long bytes, Stream stream) {
        int r;
        try {
            r = (int) DriverHandles.cuMemcpyDtoDAsync.invokeExact(dst.address(), src.address(), bytes, stream.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        CudaDriver.check("cuMemcpyDtoDAsync_v2", r);
    }
}
