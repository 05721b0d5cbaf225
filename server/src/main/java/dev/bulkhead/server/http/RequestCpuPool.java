package dev.bulkhead.server.http;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A bounded pool of platform threads for the CPU-heavy and native steps of a request: parsing the JSON body,
 * rendering the chat template, compiling a response schema, tokenizing (a JNI call into the Rust tokenizers) and
 * building a guided-decoding vocabulary.
 *
 * <p>NOTE: Helidon runs each request on a virtual thread, and virtual threads are never preempted: a long CPU step,
 * and any native call (which pins its carrier), holds one of the few carrier threads (one per core) until it ends,
 * so every other request, {@code /health} included, waits behind it. Platform threads are time-sliced by the OS
 * instead, so a carrier keeps getting the CPU while this pool is busy. The caller's virtual thread unmounts while it
 * waits for the result.
 *
 * <p>The queue is bounded: when it is full the request is refused at once with a 429 in OpenAI's shape
 * ({@code overloaded}, {@code Retry-After: 1}), as the router refuses requests past its admission bound.
 */
final class RequestCpuPool implements AutoCloseable {

    private final ThreadPoolExecutor executor;
    private final CpuPoolConfig settings;

    RequestCpuPool(CpuPoolConfig settings) {
        this.settings = settings;
        AtomicInteger n = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "bulkhead-request-cpu-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.executor = new ThreadPoolExecutor(settings.threads(), settings.threads(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(settings.queueBound()), threads, new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * Runs {@code work} on the pool and returns its result, blocking the caller (cheaply, on a virtual thread) until
     * it is done. A runtime exception of {@code work} is rethrown as it is.
     *
     * @throws ApiException 429 when the queue is full, 503 when the server is stopping
     */
    <T> T call(Supplier<T> work) {
        CompletableFuture<T> result = submit(work);
        if (result == null) {
            throw executor.isShutdown() ? stopping() : busy();
        }
        return await(result);
    }

    /**
     * As {@link #call}, but when the queue is full runs {@code work} on the caller's thread instead of refusing: for
     * work whose request the engine has already served, where a 429 would throw the answer away.
     */
    <T> T callOrRunHere(Supplier<T> work) {
        CompletableFuture<T> result = submit(work);
        return result == null ? work.get() : await(result);
    }

    /** The outcome of {@code work} queued on the pool, or null when the pool refused it. */
    private <T> CompletableFuture<T> submit(Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            executor.execute(new Task<>(work, result));
            return result;
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    private static <T> T await(CompletableFuture<T> result) {
        try {
            // NOTE: join, not an interruptible get: a task that already handed a request to the engine must be
            // waited for, or its future (and the request's KV blocks) would be lost. Tasks are short.
            return result.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private ApiException busy() {
        return new ApiException(429, "rate_limit_error", null, "overloaded", "the server is busy: "
                + settings.queueBound() + " requests are already waiting for a CPU thread; retry shortly", 1);
    }

    private static ApiException stopping() {
        return new ApiException(503, "service_unavailable", null, "unavailable", "the server is stopping", -1);
    }

    /** Stops the threads; work still queued fails with 503 so no caller waits forever. */
    @Override
    public void close() {
        for (Runnable r : executor.shutdownNow()) {
            if (r instanceof Task<?> t) {
                t.result.completeExceptionally(stopping());
            }
        }
    }

    /** One piece of work and where its outcome goes. */
    private record Task<T>(Supplier<T> work, CompletableFuture<T> result) implements Runnable {
        @Override
        public void run() {
            try {
                result.complete(work.get());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }
    }
}
