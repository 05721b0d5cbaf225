package dev.bulkhead.ffi;

import dev.bulkhead.ffi.Handles.Context;
import dev.bulkhead.ffi.Handles.Event;
import dev.bulkhead.ffi.Handles.Function;
import dev.bulkhead.ffi.Handles.Module;
import dev.bulkhead.ffi.Handles.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device's primary context and everything made in it for one owner (a loaded model): device and pinned
 * allocations, streams, events, modules, cuBLAS handles. {@link #close()} releases all of it in reverse order
 * of creation, then the primary context, so unloading a model frees its device memory. Creation is not
 * thread safe; make the context current on each thread that uses it ({@link #makeCurrent()}).
 */
public final class CudaContext implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CudaContext.class);

    private final int ordinal;
    private final int device;
    private final Context context;
    private final Arena arena;
    private final Deque<Runnable> releases = new ArrayDeque<>();
    private boolean closed;

    private CudaContext(int ordinal, int device, Context context) {
        this.ordinal = ordinal;
        this.device = device;
        this.context = context;
        // NOTE: shared, because a model is loaded on one thread and stepped on its engine thread.
        this.arena = Arena.ofShared();
    }

    /** Initializes the driver, retains device {@code ordinal}'s primary context and makes it current. */
    public static CudaContext open(int ordinal) {
        CudaDriver.init();
        int dev = CudaDriver.device(ordinal);
        Context ctx = CudaDriver.primaryContextRetain(dev);
        CudaContext c = new CudaContext(ordinal, dev, ctx);
        try {
            c.makeCurrent();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Binds this context to the calling thread. */
    public void makeCurrent() {
        CudaDriver.setCurrent(context);
    }

    /** An arena that lives as long as this context (kernel argument packing, host staging). */
    public Arena arena() {
        return arena;
    }

    public int ordinal() {
        return ordinal;
    }

    public String deviceName() {
        return CudaDriver.deviceName(device);
    }

    public int computeCapability() {
        return CudaRuntime.computeCapability(device);
    }

    /** The device's streaming multiprocessors (132 on an H100 SXM). */
    public int multiprocessors() {
        return CudaDriver.deviceAttribute(device, CudaDriver.ATTR_MULTIPROCESSOR_COUNT);
    }

    public DeviceBuffer alloc(long bytes) {
        DevicePtr p = CudaMemory.alloc(bytes);
        releases.push(() -> CudaMemory.free(p));
        return new DeviceBuffer(p, bytes);
    }

    /** Page-locked host memory, freed with the context. */
    public MemorySegment pinned(long bytes) {
        MemorySegment m = CudaMemory.hostAlloc(bytes);
        releases.push(() -> CudaMemory.freeHost(m));
        return m;
    }

    /** A non-blocking stream (does not synchronize with the legacy default stream). */
    public Stream createStream() {
        Stream s = CudaDriver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
        releases.push(() -> CudaDriver.streamDestroy(s));
        return s;
    }

    public Event createEvent() {
        Event e = CudaDriver.eventCreate(0);
        releases.push(() -> CudaDriver.eventDestroy(e));
        return e;
    }

    /** Loads a fatbin/cubin (or PTX) image held in a Java array. */
    public Module loadModule(byte[] image) {
        MemorySegment seg = arena.allocate(image.length + 1L, 16);
        MemorySegment.copy(MemorySegment.ofArray(image), 0, seg, 0, image.length);
        Module m = CudaDriver.moduleLoadData(seg);
        releases.push(() -> CudaDriver.moduleUnload(m));
        return m;
    }

    public Function function(Module module, String name) {
        return CudaDriver.moduleGetFunction(module, name);
    }

    /** A cuBLAS handle on {@code stream}, destroyed with the context. */
    public CublasHandle cublas(Stream stream) {
        CublasHandle h = CublasHandle.create(stream);
        releases.push(h::close);
        return h;
    }

    public CudaMemory.Info memoryInfo() {
        return CudaMemory.info();
    }

    public void synchronize() {
        CudaDriver.contextSynchronize();
    }

    private static RuntimeException addTo(RuntimeException first, RuntimeException e) {
        if (first == null) {
            return e;
        }
        first.addSuppressed(e);
        return first;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        try {
            makeCurrent();
            while (!releases.isEmpty()) {
                try {
                    releases.pop().run();
                } catch (CudaException e) {
                    if (e.contextLost()) {
                        // NOTE: a lost context refuses every free; releasing it below lets the driver destroy it
                        // with everything in it once its last user is gone. Not an error of closing.
                        LOG.info("CUDA context of device {} was lost ({}); releasing it without freeing each allocation",
                                ordinal, e.codeName());
                        releases.clear();
                        break;
                    }
                    first = addTo(first, e);
                } catch (RuntimeException e) {
                    // NOTE: keep releasing; one failed free must not leak everything after it.
                    first = addTo(first, e);
                }
            }
            CudaDriver.primaryContextRelease(device);
        } catch (RuntimeException e) {
            first = addTo(first, e);
        } finally {
            arena.close();
        }
        if (first != null) {
            LOG.warn("releasing CUDA context of device {} failed: {}", ordinal, first.getMessage());
            throw first;
        }
    }
}
