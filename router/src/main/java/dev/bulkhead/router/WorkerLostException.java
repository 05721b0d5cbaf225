package dev.bulkhead.router;

/**
 * A model's worker process is gone or no longer answers: it exited, crashed, hung, stopped reading or flooded its
 * socket. Requests it held fail with this (a stream that had begun ends with it as its error event); the message
 * says which worker and why.
 */
public class WorkerLostException extends IllegalStateException {

    public WorkerLostException(String message) {
        super(message);
    }
}
