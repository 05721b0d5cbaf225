package dev.bulkhead.model.hub;

/**
 * A hub request or download that failed: the message names the URL or file and what to do about it.
 * {@link #status()} is the HTTP status, or 0 when the failure was not an HTTP answer (network, checksum).
 */
public final class HubException extends RuntimeException {

    private final int status;

    public HubException(String message) {
        this(message, 0, null);
    }

    public HubException(String message, Throwable cause) {
        this(message, 0, cause);
    }

    public HubException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status code that caused this failure, or 0 if there was none. */
    public int status() {
        return status;
    }
}
