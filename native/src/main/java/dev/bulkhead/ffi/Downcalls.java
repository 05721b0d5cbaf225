package dev.bulkhead.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Loads a located library and binds its functions. A function that cannot be bound (library missing, symbol
 * absent in an old driver) becomes a handle of the same type that throws {@link CudaUnavailableException}
 * with the reason, so holder classes never fail to initialize and callers get a clear message instead.
 */
final class Downcalls {

    private static final MethodHandle FAIL;

    static {
        try {
            FAIL = MethodHandles.lookup().findStatic(Downcalls.class, "fail",
                    MethodType.methodType(int.class, String.class, String.class, String.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Downcalls() {
    }

    /**
     * A loaded library or why it is not.
     *
     * @param name    library name for messages
     * @param symbols its symbols, empty when it could not be loaded
     * @param failure why it could not be loaded; empty when it was
     */
    record Library(String name, Optional<SymbolLookup> symbols, String failure) {

        /** Loads {@code lookup}'s file, or records why not. */
        static Library load(String name, LibraryLocator.Lookup lookup) {
            if (lookup.path().isEmpty()) {
                return new Library(name, Optional.empty(), lookup.notFoundMessage());
            }
            Path file = lookup.path().get();
            try {
                // NOTE: Arena.global(): a driver library cannot be unloaded safely while any context or
                // handle made by it may still exist, so it stays mapped for the life of the process.
                return new Library(name, Optional.of(SymbolLookup.libraryLookup(file, Arena.global())), "");
            } catch (IllegalArgumentException | IllegalCallerException e) {
                return new Library(name, Optional.empty(), "cannot load " + file + ": " + e.getMessage()
                        + "; " + lookup.spec().installHint());
            }
        }

        /** Loads a library file named directly (the CUDA emulator), or records why not. */
        static Library loadFile(String name, Path file) {
            try {
                // NOTE: Arena.global() for the same reason as load().
                return new Library(name, Optional.of(SymbolLookup.libraryLookup(file, Arena.global())), "");
            } catch (IllegalArgumentException | IllegalCallerException e) {
                return new Library(name, Optional.empty(), "cannot load " + file + ": " + e.getMessage());
            }
        }

        boolean loaded() {
            return symbols.isPresent();
        }
    }

    /** Binds {@code symbol} of {@code lib} with descriptor {@code fd} (which must return a status int). */
    static MethodHandle bind(Library lib, String symbol, FunctionDescriptor fd) {
        return bindFirst(lib, fd, symbol);
    }

    /**
     * Binds the first of {@code symbols} that {@code lib} exports (newest version first, e.g.
     * {@code cuEventElapsedTime_v2} then {@code cuEventElapsedTime}, which drivers before 12.8 only have).
     */
    static MethodHandle bindFirst(Library lib, FunctionDescriptor fd, String... symbols) {
        MethodType type = fd.toMethodType();
        for (String symbol : symbols) {
            Optional<java.lang.foreign.MemorySegment> address = lib.symbols().flatMap(s -> s.find(symbol));
            if (address.isPresent()) {
                return Linker.nativeLinker().downcallHandle(address.get(), fd);
            }
        }
        String symbol = String.join(" or ", symbols);
        String reason = lib.loaded() ? symbol + " is not exported by this " + lib.name() + " (driver too old?)"
                : lib.failure();
        MethodHandle thrower = MethodHandles.insertArguments(FAIL, 0, lib.name(), symbol, reason);
        return MethodHandles.dropArguments(thrower, 0, type.parameterList()).asType(type);
    }

    @SuppressWarnings("unused") // NOTE: called through FAIL.
    private static int fail(String library, String symbol, String reason) {
        throw new CudaUnavailableException(library, symbol, reason);
    }

    /** Rethrows what {@code invokeExact} threw: runtime exceptions and errors as they are. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}
