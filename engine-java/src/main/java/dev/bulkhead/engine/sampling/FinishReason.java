package dev.bulkhead.engine.sampling;

/** Why a request stopped producing tokens; the names map one to one onto OpenAI's {@code finish_reason}. */
public enum FinishReason {
    /** A stop token (EOS or one of the request's stop token ids) or a stop string was produced. */
    STOP,
    /** The request reached its {@code maxTokens} (or the model's context length). */
    LENGTH,
    /** The client cancelled the request or its deadline passed. */
    ABORT,
    /** The engine failed while serving the request. */
    ERROR
}
