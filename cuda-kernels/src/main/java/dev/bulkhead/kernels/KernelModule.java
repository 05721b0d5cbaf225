package dev.bulkhead.kernels;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaUnavailableException;
import dev.bulkhead.ffi.Handles.Function;
import dev.bulkhead.ffi.Handles.Module;
import dev.bulkhead.ffi.KernelArgs;
import dev.bulkhead.ffi.KernelSignature;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The fatbin loaded into one context, every {@link Kernel} resolved to its function once and its signature
 * checked against the module's own parameter layout. The module is unloaded with the context.
 */
public final class KernelModule {

    private final CudaContext context;
    private final Map<Kernel, Function> functions = new EnumMap<>(Kernel.class);

    private KernelModule(CudaContext context, Module module) {
        this.context = context;
        boolean check = true;
        for (Kernel k : Kernel.values()) {
            Function f = context.function(module, k.symbol());
            // NOTE: once the driver says it cannot tell (older than 12.4), the other kernels are not asked.
            check = check && verify(f, k.signature());
            functions.put(k, f);
        }
    }

    /** Loads this jar's kernels into {@code context} (which must be current): see {@link KernelImage#forThisProcess()}. */
    public static KernelModule load(CudaContext context) {
        return new KernelModule(context, context.loadModule(KernelImage.forThisProcess()));
    }

    /**
     * Checks {@code signature} against the parameter layout the module reports for {@code f}: the same
     * number of parameters, each of the size the index says. A launch packed from a wrong signature is silent
     * memory corruption on a GPU, so a mismatch fails here, before any launch.
     *
     * @return false when the driver cannot tell (older than 12.4), so the caller can stop asking
     * @throws KernelSignatureException when the two disagree
     */
    public static boolean verify(Function f, KernelSignature signature) {
        try {
            for (int i = 0; i < signature.arity(); i++) {
                KernelSignature.Param p = signature.params().get(i);
                Optional<long[]> info = CudaDriver.functionParamInfo(f, i);
                if (info.isEmpty()) {
                    throw new KernelSignatureException(f.name() + " takes " + i + " parameters, but the kernel index"
                            + " lists " + signature.arity() + " (" + p.name() + " and after have no counterpart)");
                }
                if (info.get()[1] != p.type().byteSize()) {
                    throw new KernelSignatureException(f.name() + " parameter " + i + " (" + p.name() + ") is "
                            + p.type() + " (" + p.type().byteSize() + " bytes) in the kernel index, but the kernel's C"
                            + " signature takes " + info.get()[1] + " bytes at offset " + info.get()[0]);
                }
            }
            if (CudaDriver.functionParamInfo(f, signature.arity()).isPresent()) {
                throw new KernelSignatureException(f.name() + " takes more than the " + signature.arity()
                        + " parameters the kernel index lists");
            }
            return true;
        } catch (CudaUnavailableException e) {
            return false; // NOTE: cuFuncGetParamInfo needs a 12.4 driver; older ones launch unchecked, as before
        }
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
