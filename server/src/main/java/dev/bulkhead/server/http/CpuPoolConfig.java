package dev.bulkhead.server.http;

/**
 * The pool of platform threads that runs each request's CPU-heavy and native steps (body parsing, chat template
 * rendering, schema compilation, tokenizing) off the virtual-thread carriers.
 *
 * @param threads    platform threads; one per available processor by default
 * @param queueBound requests that may wait for a thread; past it a request is refused with 429 {@code overloaded}
 *                   and {@code Retry-After: 1}
 */
public record CpuPoolConfig(int threads, int queueBound) {

    /** Waiting requests allowed by default: a burst of hundreds of small requests fits. */
    public static final int DEFAULT_QUEUE_BOUND = 512;

    public CpuPoolConfig {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("request CPU threads must be in [1, 1024], got " + threads);
        }
        if (queueBound < 1 || queueBound > 1_000_000) {
            throw new IllegalArgumentException("request CPU queue bound must be in [1, 1000000], got " + queueBound);
        }
    }

    /** One thread per available processor and {@value #DEFAULT_QUEUE_BOUND} waiting requests. */
    public static CpuPoolConfig defaults() {
        return new CpuPoolConfig(Runtime.getRuntime().availableProcessors(), DEFAULT_QUEUE_BOUND);
    }
}
