package dev.bulkhead.router;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The {@link Fault#NATIVE_CRASH} drill: a native call that reads address 0, as a bad pointer handed to a native
 * library does. The JVM cannot catch it: the process dies with SIGSEGV and a fatal error report.
 */
final class NativeCrash {

    private NativeCrash() {
    }

    /** Resolved on first use only: a router that never drills never binds it. */
    private static final class Strlen {
        // NOTE: FFM refuses a downcall to address 0 itself, so the null pointer goes to a real libc function.
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("strlen").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    }

    /** Does not return. */
    static void segfault() {
        long n;
        try {
            n = (long) Strlen.HANDLE.invokeExact(MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException("the native-crash drill failed to crash: " + t, t);
        }
        throw new IllegalStateException("the native-crash drill did not crash: strlen(NULL) returned " + n);
    }
}
