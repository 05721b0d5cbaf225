package dev.bulkhead.router;

/** One attempt on one model failed (error, timeout, restart); the router moves down the fallback chain. */
final class AttemptFailedException extends RuntimeException {

    AttemptFailedException(String message) {
        super(message, null, false, false);
    }
}
