package dev.bulkhead.ffi;

import static dev.bulkhead.ffi.Downcalls.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.bulkhead.ffi.Handles.Context;
import dev.bulkhead.ffi.Handles.Dim3;
import dev.bulkhead.ffi.Handles.Event;
import dev.bulkhead.ffi.Handles.Function;
import dev.bulkhead.ffi.Handles.Graph;
import dev.bulkhead.ffi.Handles.GraphExec;
import dev.bulkhead.ffi.Handles.Module;
import dev.bulkhead.ffi.Handles.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The CUDA driver API (device, context, module, launch, stream, event, graph), one checked static method per
 * function. Every non-zero {@code CUresult} becomes a {@link CudaException} naming the function; memory
 * functions are in {@link CudaMemory}. Callers normally go through {@link CudaContext}, which owns what
 * these create.
 */
public final class CudaDriver {

    /** {@code CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT}. */
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    /** {@code CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR}. */
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    /** {@code CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR}. */
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    /** {@code CU_STREAM_NON_BLOCKING}. */
    public static final int STREAM_NON_BLOCKING = 1;
    /** {@code CU_STREAM_CAPTURE_MODE_THREAD_LOCAL}. */
    public static final int CAPTURE_MODE_THREAD_LOCAL = 1;
    /** {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}. */
    public static final int FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    private CudaDriver() {
    }

    /** Throws the named exception for a non-zero {@code CUresult}. */
    static void check(String api, int result) {
        if (result != 0) {
            throw CudaException.of(api, result);
        }
    }

    public static void init() {
        int r;
        try {
            r = (int) DriverHandles.cuInit.invokeExact(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuInit", r);
    }

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    public static int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check("cuDriverGetVersion", (int) DriverHandles.cuDriverGetVersion.invokeExact(v));
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(JAVA_INT);
            check("cuDeviceGetCount", (int) DriverHandles.cuDeviceGetCount.invokeExact(n));
            return n.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The {@code CUdevice} of ordinal {@code ordinal}. */
    public static int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(JAVA_INT);
            int r = (int) DriverHandles.cuDeviceGet.invokeExact(d, ordinal);
            if (r != 0) {
                throw CudaException.of("cuDeviceGet", r, "ordinal " + ordinal);
            }
            return d.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int deviceAttribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check("cuDeviceGetAttribute", (int) DriverHandles.cuDeviceGetAttribute.invokeExact(v, attribute, device));
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check("cuDeviceGetName", (int) DriverHandles.cuDeviceGetName.invokeExact(buf, 256, device));
            return buf.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static Context primaryContextRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain", (int) DriverHandles.cuDevicePrimaryCtxRetain.invokeExact(p, device));
            return new Context(p.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void primaryContextRelease(int device) {
        int r;
        try {
            r = (int) DriverHandles.cuDevicePrimaryCtxRelease.invokeExact(device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuDevicePrimaryCtxRelease_v2", r);
    }

    /** Binds {@code ctx} to the calling thread (CUDA contexts are current per thread). */
    public static void setCurrent(Context ctx) {
        int r;
        try {
            r = (int) DriverHandles.cuCtxSetCurrent.invokeExact(ctx.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuCtxSetCurrent", r);
    }

    public static void contextSynchronize() {
        int r;
        try {
            r = (int) DriverHandles.cuCtxSynchronize.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuCtxSynchronize", r);
    }

    public static Stream streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuStreamCreate", (int) DriverHandles.cuStreamCreate.invokeExact(p, flags));
            return new Stream(p.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void streamDestroy(Stream s) {
        int r;
        try {
            r = (int) DriverHandles.cuStreamDestroy.invokeExact(s.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuStreamDestroy_v2", r);
    }

    public static void streamSynchronize(Stream s) {
        int r;
        try {
            r = (int) DriverHandles.cuStreamSynchronize.invokeExact(s.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuStreamSynchronize", r);
    }

    public static Event eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuEventCreate", (int) DriverHandles.cuEventCreate.invokeExact(p, flags));
            return new Event(p.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void eventRecord(Event e, Stream s) {
        int r;
        try {
            r = (int) DriverHandles.cuEventRecord.invokeExact(e.handle(), s.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuEventRecord", r);
    }

    public static void eventSynchronize(Event e) {
        int r;
        try {
            r = (int) DriverHandles.cuEventSynchronize.invokeExact(e.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuEventSynchronize", r);
    }

    /** Milliseconds between two recorded events. */
    public static float eventElapsedMillis(Event start, Event end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            check("cuEventElapsedTime", (int) DriverHandles.cuEventElapsedTime.invokeExact(ms, start.handle(), end.handle()));
            return ms.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Makes work queued on {@code s} after this call wait until {@code e}'s recorded work is done. */
    public static void streamWaitEvent(Stream s, Event e) {
        int r;
        try {
            r = (int) DriverHandles.cuStreamWaitEvent.invokeExact(s.handle(), e.handle(), 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuStreamWaitEvent", r);
    }

    /** Whether the work {@code e} recorded is done ({@code CUDA_ERROR_NOT_READY} means not yet). */
    public static boolean eventQuery(Event e) {
        int r;
        try {
            r = (int) DriverHandles.cuEventQuery.invokeExact(e.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r == 600) {
            return false;
        }
        check("cuEventQuery", r);
        return true;
    }

    public static void eventDestroy(Event e) {
        int r;
        try {
            r = (int) DriverHandles.cuEventDestroy.invokeExact(e.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuEventDestroy_v2", r);
    }

    /** Loads an in-memory fatbin, cubin or NUL-terminated PTX image. */
    public static Module moduleLoadData(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) DriverHandles.cuModuleLoadData.invokeExact(p, image);
            if (r != 0) {
                throw CudaException.of("cuModuleLoadData", r, image.byteSize() + "-byte image");
            }
            return new Module(p.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void moduleUnload(Module m) {
        int r;
        try {
            r = (int) DriverHandles.cuModuleUnload.invokeExact(m.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuModuleUnload", r);
    }

    public static Function moduleGetFunction(Module m, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) DriverHandles.cuModuleGetFunction.invokeExact(p, m.handle(), a.allocateFrom(name));
            if (r != 0) {
                throw CudaException.of("cuModuleGetFunction", r, "kernel " + name);
            }
            return new Function(p.get(ADDRESS, 0), name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void functionSetAttribute(Function f, int attribute, int value) {
        int r;
        try {
            r = (int) DriverHandles.cuFuncSetAttribute.invokeExact(f.handle(), attribute, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r != 0) {
            throw CudaException.of("cuFuncSetAttribute", r, f.name() + " attribute " + attribute + " = " + value);
        }
    }

    /**
     * Where parameter {@code index} of {@code f} sits in the kernel's own parameter layout, as {offset, size}
     * in bytes ({@code cuFuncGetParamInfo}, drivers 12.4 and newer); empty when the kernel has no such
     * parameter.
     *
     * @throws CudaUnavailableException when the driver is older than 12.4
     */
    public static java.util.Optional<long[]> functionParamInfo(Function f, int index) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment offset = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
            int r = (int) DriverHandles.cuFuncGetParamInfo.invokeExact(f.handle(), (long) index, offset, size);
            if (r == 1) { // CUDA_ERROR_INVALID_VALUE: index past the last parameter
                return java.util.Optional.empty();
            }
            if (r != 0) {
                throw CudaException.of("cuFuncGetParamInfo", r, f.name() + " parameter " + index);
            }
            return java.util.Optional.of(new long[] {offset.get(ValueLayout.JAVA_LONG, 0), size.get(ValueLayout.JAVA_LONG, 0)});
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Launches {@code f} with parameters packed by {@link KernelArgs}; allocates nothing. */
    public static void launch(Function f, Dim3 grid, Dim3 block, int sharedMemBytes, Stream stream, KernelArgs args) {
        int r;
        try {
            r = (int) DriverHandles.cuLaunchKernel.invokeExact(f.handle(), grid.x(), grid.y(), grid.z(),
                    block.x(), block.y(), block.z(), sharedMemBytes, stream.handle(), args.pointers(),
                    MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r != 0) {
            throw CudaException.of("cuLaunchKernel", r, f.name() + " grid " + grid + " block " + block
                    + " smem " + sharedMemBytes);
        }
    }

    public static void streamBeginCapture(Stream s, int mode) {
        int r;
        try {
            r = (int) DriverHandles.cuStreamBeginCapture.invokeExact(s.handle(), mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuStreamBeginCapture_v2", r);
    }

    public static Graph streamEndCapture(Stream s) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuStreamEndCapture", (int) DriverHandles.cuStreamEndCapture.invokeExact(s.handle(), p));
            return new Graph(p.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static GraphExec graphInstantiate(Graph g) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuGraphInstantiateWithFlags", (int) DriverHandles.cuGraphInstantiate.invokeExact(p, g.handle(), 0L));
            return new GraphExec(p.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void graphLaunch(GraphExec g, Stream s) {
        int r;
        try {
            r = (int) DriverHandles.cuGraphLaunch.invokeExact(g.handle(), s.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuGraphLaunch", r);
    }

    public static void graphExecDestroy(GraphExec g) {
        int r;
        try {
            r = (int) DriverHandles.cuGraphExecDestroy.invokeExact(g.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuGraphExecDestroy", r);
    }

    public static void graphDestroy(Graph g) {
        int r;
        try {
            r = (int) DriverHandles.cuGraphDestroy.invokeExact(g.handle());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cuGraphDestroy", r);
    }
}
