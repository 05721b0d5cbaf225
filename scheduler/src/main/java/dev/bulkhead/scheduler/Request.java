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
    /**
     * Leading tokens whose KV is in the cache or being computed: found in the prefix cache, or scheduled (advanced
     * when a step is scheduled, as in vLLM v1, so a step scheduled ahead sees what the one in flight computes).
     */
    int numComputed;
    /**
     * Output tokens sampled by scheduled steps whose result has not reached {@link Scheduler#update} yet: the
     * positions past {@link #numTokens} a step scheduled ahead may already compute (vLLM's output placeholders).
     */
    int placeholders;
    /** Times preempted: a pending step scheduled before the last preemption computed KV the request no longer holds. */
    int incarnation;
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

    /** Whether the request's last token ({@code maxTokens}) is known or already being sampled by a pending step. */
    boolean lastTokenScheduled() {
        return numOutputTokens() + placeholders >= spec.maxTokens();
    }

    int[] outputTokens() {
        return Arrays.copyOfRange(tokens, spec.promptLength(), numTokens);
    }
}
