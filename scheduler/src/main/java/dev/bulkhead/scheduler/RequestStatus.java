package dev.bulkhead.scheduler;

/**
 * Where a request stands: {@code WAITING → RUNNING → (PREEMPTED → RUNNING …) → FINISHED_*}. A preempted request
 * waits in the queue again, keeping its output tokens, and recomputes its KV when rescheduled.
 */
public enum RequestStatus {
    /** In the queue, never scheduled. */
    WAITING,
    /** Holding KV blocks and scheduled each step. */
    RUNNING,
    /** Back in the queue after losing its KV; keeps its output tokens. */
    PREEMPTED,
    /** Finished by {@link FinishReason#STOP}. */
    FINISHED_STOPPED,
    /** Finished by {@link FinishReason#LENGTH}. */
    FINISHED_LENGTH,
    /** Finished by {@link FinishReason#ABORT}. */
    FINISHED_ABORTED,
    /** Finished by {@link FinishReason#ERROR}. */
    FINISHED_ERROR;

    /** Whether the request is done and holds no KV blocks. */
    public boolean isFinished() {
        return ordinal() >= FINISHED_STOPPED.ordinal();
    }

    /** The finished status for {@code reason}. */
    public static RequestStatus finishedBy(FinishReason reason) {
        return switch (reason) {
            case STOP -> FINISHED_STOPPED;
            case LENGTH -> FINISHED_LENGTH;
            case ABORT -> FINISHED_ABORTED;
            case ERROR -> FINISHED_ERROR;
        };
    }
}
