package dev.bulkhead.scheduler;

/** Why a request left the scheduler. */
public enum FinishReason {
    /** An end-of-sequence token, a stop token id or a stop string (decided by the engine). The names map one to one onto OpenAI's {@code finish_reason}. */
    STOP,
    /** {@code maxTokens} output tokens were produced. */
    LENGTH,
    /** The client cancelled it. */
    ABORT,
    /** The engine failed while serving it. */
    ERROR
}
