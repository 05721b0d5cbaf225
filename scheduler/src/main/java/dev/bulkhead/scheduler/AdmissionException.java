package dev.bulkhead.scheduler;

/** A request the scheduler refuses at {@link Scheduler#add}; the message names the numbers involved. */
public final class AdmissionException extends RuntimeException {

    /** Why the request was refused. */
    public enum Reason {
        /** A live request already has this id. */
        DUPLICATE_ID,
        /** The prompt has no tokens. */
        EMPTY_PROMPT,
        /** Prompt plus {@code maxTokens} exceed the model's maximum length. */
        EXCEEDS_MAX_MODEL_LEN,
        /** The request alone would need more KV blocks than the whole pool holds. */
        EXCEEDS_KV_CACHE
    }

    private final String requestId;
    private final Reason reason;

    /** An exception for {@code requestId}; {@code message} names the numbers. */
    public AdmissionException(String requestId, Reason reason, String message) {
        super("request " + requestId + " rejected: " + message);
        this.requestId = requestId;
        this.reason = reason;
    }

    /** The refused request's id. */
    public String requestId() {
        return requestId;
    }

    /** Why it was refused (for mapping to an API error). */
    public Reason reason() {
        return reason;
    }
}
