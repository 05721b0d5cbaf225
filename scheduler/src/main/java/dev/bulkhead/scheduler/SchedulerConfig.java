package dev.bulkhead.scheduler;

/**
 * Limits of one step and of the request table.
 *
 * @param maxBatchedTokens   tokens computed per step over all requests (the token budget)
 * @param maxRunning         requests holding KV and scheduled together (the sequence cap)
 * @param maxModelLen        the longest sequence (prompt + output) the model serves
 * @param finishedRetention  finished requests remembered for {@link Scheduler#status} and
 *                           {@link Scheduler#outputTokens}, oldest forgotten first
 */
public record SchedulerConfig(int maxBatchedTokens, int maxRunning, int maxModelLen, int finishedRetention) {

    public SchedulerConfig {
        if (maxBatchedTokens < 1) {
            throw new IllegalArgumentException("maxBatchedTokens must be >= 1, got " + maxBatchedTokens);
        }
        if (maxRunning < 1) {
            throw new IllegalArgumentException("maxRunning must be >= 1, got " + maxRunning);
        }
        if (maxModelLen < 2) {
            throw new IllegalArgumentException("maxModelLen must be >= 2 (one prompt and one output token), got "
                    + maxModelLen);
        }
        if (finishedRetention < 0) {
            throw new IllegalArgumentException("finishedRetention must be >= 0, got " + finishedRetention);
        }
    }

    /** A config remembering the last 1024 finished requests. */
    public SchedulerConfig(int maxBatchedTokens, int maxRunning, int maxModelLen) {
        this(maxBatchedTokens, maxRunning, maxModelLen, 1024);
    }
}
