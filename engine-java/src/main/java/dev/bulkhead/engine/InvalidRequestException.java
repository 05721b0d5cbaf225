package dev.bulkhead.engine;

/**
 * A request that can never be served as given: the message names the field and the limit
 * (e.g. {@code max_tokens must be in [1, 480] for a 32-token prompt in a 512-token context, got 1000}).
 * Thrown before anything is queued, so nothing else is affected.
 */
public class InvalidRequestException extends IllegalArgumentException {

    private final String field;

    public InvalidRequestException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The offending request field, in the OpenAI spelling ({@code max_tokens}, {@code temperature}, ...). */
    public String field() {
        return field;
    }
}
