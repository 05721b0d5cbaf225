package dev.bulkhead.engine;

/** A forward pass or sampling step failed; the requests of that step end with this error, the engine goes on. */
public class EngineStepException extends RuntimeException {

    public EngineStepException(String message, Throwable cause) {
        super(message, cause);
    }
}
