package dev.bulkhead.engine.internal.runner;

/**
 * The runner's backend can never run another step: a sticky CUDA error (an illegal address, a failed launch)
 * poisoned its context, and every later call would fail the same way. The engine that sees it fails every
 * request it holds and stops its loop, so that a supervisor (the router's watchdog) rebuilds it on a fresh
 * context rather than stepping a dead one.
 */
public final class BackendLostException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BackendLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
