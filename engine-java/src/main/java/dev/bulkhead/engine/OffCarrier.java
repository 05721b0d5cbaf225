package dev.bulkhead.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Runs a request's CPU-heavy preparation (tokenizing, a native call; building a guided-decoding vocabulary) on
 * a few platform threads of the engine's own when the caller is a virtual thread. A native call pins the
 * carrier that runs its virtual thread, and a JVM has about one carrier per core: two long prompts tokenized on
 * virtual threads can stall every other request of the process, health probes included. The virtual caller
 * waits unmounted; a platform caller (a server's own CPU pool) runs the work itself.
 */
final class OffCarrier implements AutoCloseable {

    private final ExecutorService pool;

    OffCarrier(String name) {
        int threads = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        this.pool = Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().daemon().name("bulkhead-prepare-" + name + "-", 0).factory());
    }

    <T> T run(Supplier<T> work) {
        if (!Thread.currentThread().isVirtual()) {
            return work.get();
        }
        try {
            return CompletableFuture.supplyAsync(work, pool).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
