package dev.bulkhead.scheduler;

import java.util.Arrays;

/** The scheduler's mutable state for one request; only {@link Scheduler} touches it. */
final class Request {

    final SchedulerRequest spec;
    final String id;
    /** Admission order: the last tie breaker, so queue order is total. */
    final long admission;
    /** Prompt then output tokens; room for all {@code maxTokens}. */
    final int[] tokens;
    int numTokens;
    /** Leading tokens whose KV is in the cache (computed by an executed step or found in the prefix cache). */
    int numComputed;
    /** Tokens picked for the step being built; 0 outside {@link Scheduler#schedule()}. */
    int scheduledTokens;
    RequestStatus status = RequestStatus.WAITING;

    Request(SchedulerRequest spec, long admission) {
        this.spec = spec;
        this.id = spec.requestId();
        this.admission = admission;
        this.tokens = new int[spec.promptLength() + spec.maxTokens()];
        spec.copyPromptTo(tokens, 0);
        this.numTokens = spec.promptLength();
    }

    int priority() {
        return spec.priority();
    }

    long arrivalNanos() {
        return spec.arrivalNanos();
    }

    long admission() {
        return admission;
    }

    int numOutputTokens() {
        return numTokens - spec.promptLength();
    }

    int[] outputTokens() {
        return Arrays.copyOfRange(tokens, spec.promptLength(), numTokens);
    }
}
