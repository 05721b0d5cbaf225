package dev.bulkhead.server.http;

/**
 * A request the API answers with an error in OpenAI's shape {@code {"error":{"message","type","param","code"}}}.
 *
 * @see ErrorResponses
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final long retryAfterSeconds;

    /**
     * @param status            HTTP status
     * @param type              OpenAI error type ({@code invalid_request_error}, ...)
     * @param param             the offending request field, or null
     * @param code              a short machine-readable code, or null
     * @param message           what went wrong, for people
     * @param retryAfterSeconds value of {@code Retry-After}, or a negative number for none
     */
    public ApiException(int status, String type, String param, String code, String message, long retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400 for a bad field, naming it. */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message, -1);
    }

    /** 404 for a model this server does not serve. */
    public static ApiException unknownModel(String model) {
        return new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + model + "' does not exist", -1);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
