package dev.bulkhead.kernels;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.Handles.Function;
import dev.bulkhead.ffi.Handles.Module;
import dev.bulkhead.ffi.KernelArgs;
import java.util.EnumMap;
import java.util.Map;

/**
 * The fatbin loaded into one context, every {@link Kernel} resolved to its function once. The module is
 * unloaded with the context.
 */
public final class KernelModule {

    private final CudaContext context;
    private final Map<Kernel, Function> functions = new EnumMap<>(Kernel.class);

    private KernelModule(CudaContext context, Module module) {
        this.context = context;
        for (Kernel k : Kernel.values()) {
            functions.put(k, context.function(module, k.symbol()));
        }
    }

    /** Loads this jar's fatbin into {@code context} (which must be current). */
    public static KernelModule load(CudaContext context) {
        return new KernelModule(context, context.loadModule(KernelImage.load()));
    }

    public Function function(Kernel k) {
        return functions.get(k);
    }

    /** Fresh argument packing for {@code k} in the context's arena; keep one per launch site. */
    public KernelArgs args(Kernel k) {
        return new KernelArgs(context.arena(), k.signature());
    }

    /** Allows {@code k} more than the default 48 KiB of dynamic shared memory. */
    public void allowSharedMemory(Kernel k, int bytes) {
        CudaDriver.functionSetAttribute(function(k), CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
    }
}
