package dev.bulkhead.router.ipc;

/** The peer broke the wire protocol: an unknown frame, a payload that does not parse, a frame past the limit. */
public class ProtocolException extends RuntimeException {

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
