package dev.bulkhead.scheduler;

import java.util.Arrays;

/**
 * What the scheduler needs to know about a request.
 *
 * @param requestId      unique among live requests
 * @param promptTokenIds prompt token ids (copied)
 * @param maxTokens      output tokens after which the request finishes with {@link FinishReason#LENGTH}
 * @param priority       lower is more important (as in vLLM); ties go to the earlier arrival
 * @param arrivalNanos   arrival time, any monotonic clock
 * @param cacheSalt      prefix-cache salt naming the adapter (or 0): requests share cached KV only when equal
 */
public record SchedulerRequest(String requestId, int[] promptTokenIds, int maxTokens, int priority,
                               long arrivalNanos, long cacheSalt) {

    public SchedulerRequest {
        if (requestId == null || requestId.isBlank()) {
            throw new IllegalArgumentException("requestId must be non-blank, got " + requestId);
        }
        if (promptTokenIds == null) {
            throw new IllegalArgumentException("promptTokenIds of " + requestId + " must not be null");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens of " + requestId + " must be >= 1, got " + maxTokens);
        }
        promptTokenIds = promptTokenIds.clone();
        for (int i = 0; i < promptTokenIds.length; i++) {
            if (promptTokenIds[i] < 0) {
                throw new IllegalArgumentException("promptTokenIds[" + i + "] of " + requestId + " must be >= 0, got "
                        + promptTokenIds[i]);
            }
        }
    }

    /** A request without an adapter salt. */
    public SchedulerRequest(String requestId, int[] promptTokenIds, int maxTokens, int priority, long arrivalNanos) {
        this(requestId, promptTokenIds, maxTokens, priority, arrivalNanos, 0L);
    }

    /** A copy of the prompt. */
    @Override
    public int[] promptTokenIds() {
        return promptTokenIds.clone();
    }

    /** Prompt tokens. */
    public int promptLength() {
        return promptTokenIds.length;
    }

    /** Copies the prompt into {@code dst} at {@code offset}. */
    public void copyPromptTo(int[] dst, int offset) {
        System.arraycopy(promptTokenIds, 0, dst, offset, promptTokenIds.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SchedulerRequest r && requestId.equals(r.requestId)
                && Arrays.equals(promptTokenIds, r.promptTokenIds) && maxTokens == r.maxTokens
                && priority == r.priority && arrivalNanos == r.arrivalNanos && cacheSalt == r.cacheSalt;
    }

    @Override
    public int hashCode() {
        return requestId.hashCode() * 31 + Arrays.hashCode(promptTokenIds);
    }

    @Override
    public String toString() {
        return "SchedulerRequest[" + requestId + ", prompt " + promptTokenIds.length + " tokens, maxTokens "
                + maxTokens + ", priority " + priority + ", arrival " + arrivalNanos + ", salt " + cacheSalt + "]";
    }
}
