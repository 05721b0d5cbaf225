package dev.bulkhead.engine.api;

/** Why a request ended. The names map one to one onto the OpenAI API's {@code finish_reason}. */
public enum FinishReason {
    /** An end-of-sequence token, a stop token id or a stop string. */
    STOP,
    /** {@code maxTokens} output tokens were produced. */
    LENGTH,
    /** The caller cancelled it (or a deadline or shutdown did). */
    ABORT,
    /** The engine failed while serving it. */
    ERROR
}
