package dev.bulkhead.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * Every CUDA driver function Bulkhead calls, resolved once. A holder: the JVM initializes it (and searches
 * for libcuda) only when the first CUDA call is made, so a machine without a driver never fails at class
 * load. Symbol names are the versioned ones {@code cuda.h} maps the plain names to.
 */
final class DriverHandles {

    static final Downcalls.Library LIB = CudaLibraries.driver();

    static final MethodHandle cuInit = bind("cuInit", JAVA_INT);
    static final MethodHandle cuDriverGetVersion = bind("cuDriverGetVersion", ADDRESS);
    static final MethodHandle cuDeviceGetCount = bind("cuDeviceGetCount", ADDRESS);
    static final MethodHandle cuDeviceGet = bind("cuDeviceGet", ADDRESS, JAVA_INT);
    static final MethodHandle cuDeviceGetAttribute = bind("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
    static final MethodHandle cuDeviceGetName = bind("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
    static final MethodHandle cuDevicePrimaryCtxRetain = bind("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
    static final MethodHandle cuDevicePrimaryCtxRelease = bind("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
    static final MethodHandle cuCtxSetCurrent = bind("cuCtxSetCurrent", ADDRESS);
    static final MethodHandle cuCtxSynchronize = bind("cuCtxSynchronize");
    static final MethodHandle cuMemGetInfo = bind("cuMemGetInfo_v2", ADDRESS, ADDRESS);
    static final MethodHandle cuMemAlloc = bind("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
    static final MethodHandle cuMemFree = bind("cuMemFree_v2", JAVA_LONG);
    static final MethodHandle cuMemsetD8 = bind("cuMemsetD8_v2", JAVA_LONG, JAVA_BYTE, JAVA_LONG);
    static final MethodHandle cuMemsetD32 = bind("cuMemsetD32_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
    static final MethodHandle cuMemcpyHtoD = bind("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
    static final MethodHandle cuMemcpyDtoH = bind("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
    static final MethodHandle cuMemcpyDtoD = bind("cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
    static final MethodHandle cuMemcpyHtoDAsync = bind("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
    static final MethodHandle cuMemcpyDtoHAsync = bind("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
    static final MethodHandle cuMemcpyDtoDAsync = bind("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
    static final MethodHandle cuMemHostAlloc = bind("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
    static final MethodHandle cuMemFreeHost = bind("cuMemFreeHost", ADDRESS);
    static final MethodHandle cuStreamCreate = bind("cuStreamCreate", ADDRESS, JAVA_INT);
    static final MethodHandle cuStreamDestroy = bind("cuStreamDestroy_v2", ADDRESS);
    static final MethodHandle cuStreamSynchronize = bind("cuStreamSynchronize", ADDRESS);
    static final MethodHandle cuEventCreate = bind("cuEventCreate", ADDRESS, JAVA_INT);
    static final MethodHandle cuEventRecord = bind("cuEventRecord", ADDRESS, ADDRESS);
    static final MethodHandle cuEventSynchronize = bind("cuEventSynchronize", ADDRESS);
    /** NOTE: _v2 exists only in drivers >= 12.8; older drivers export the original, same signature. */
    static final MethodHandle cuEventElapsedTime = Downcalls.bindFirst(LIB,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuEventElapsedTime_v2", "cuEventElapsedTime");
    static final MethodHandle cuEventDestroy = bind("cuEventDestroy_v2", ADDRESS);
    static final MethodHandle cuModuleLoadData = bind("cuModuleLoadData", ADDRESS, ADDRESS);
    static final MethodHandle cuModuleUnload = bind("cuModuleUnload", ADDRESS);
    static final MethodHandle cuModuleGetFunction = bind("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
    static final MethodHandle cuFuncSetAttribute = bind("cuFuncSetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
    /** Drivers >= 12.4: offset and size of a kernel parameter in the module's own layout. */
    static final MethodHandle cuFuncGetParamInfo = bind("cuFuncGetParamInfo", ADDRESS, JAVA_LONG, ADDRESS, ADDRESS);
    static final MethodHandle cuStreamWaitEvent = bind("cuStreamWaitEvent", ADDRESS, ADDRESS, JAVA_INT);
    static final MethodHandle cuEventQuery = bind("cuEventQuery", ADDRESS);
    /** The emulator's description of the fault behind a sticky error (absent from the NVIDIA driver). */
    static final MethodHandle bkemuErrorReport = bind("bkemu_error_report", ADDRESS, JAVA_LONG);
    static final MethodHandle cuLaunchKernel = bind("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    static final MethodHandle cuStreamBeginCapture = bind("cuStreamBeginCapture_v2", ADDRESS, JAVA_INT);
    static final MethodHandle cuStreamEndCapture = bind("cuStreamEndCapture", ADDRESS, ADDRESS);
    static final MethodHandle cuGraphInstantiate = bind("cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG);
    static final MethodHandle cuGraphLaunch = bind("cuGraphLaunch", ADDRESS, ADDRESS);
    static final MethodHandle cuGraphExecDestroy = bind("cuGraphExecDestroy", ADDRESS);
    static final MethodHandle cuGraphDestroy = bind("cuGraphDestroy", ADDRESS);

    private DriverHandles() {
    }

    private static MethodHandle bind(String symbol, java.lang.foreign.MemoryLayout... args) {
        return Downcalls.bind(LIB, symbol, FunctionDescriptor.of(JAVA_INT, args));
    }
}
