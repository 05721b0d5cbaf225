package dev.bulkhead.scheduler;

import java.util.List;

/**
 * One step's decision, immutable: the chunks to compute as one ragged batch (in this order) and the requests
 * preempted to make room (their KV is gone; they will recompute it).
 *
 * @param step             step number, from 1; {@link #EMPTY} has 0
 * @param chunks           requests and tokens to compute
 * @param preempted        ids of requests moved back to the waiting queue this step
 * @param numBatchedTokens total tokens over all chunks
 */
public record SchedulerOutput(long step, List<ScheduledChunk> chunks, List<String> preempted, int numBatchedTokens) {

    /** Nothing to do (no request can run now). */
    public static final SchedulerOutput EMPTY = new SchedulerOutput(0, List.of(), List.of(), 0);

    public SchedulerOutput {
        chunks = List.copyOf(chunks);
        preempted = List.copyOf(preempted);
        int sum = 0;
        for (ScheduledChunk c : chunks) {
            sum += c.numTokens();
        }
        if (sum != numBatchedTokens) {
            throw new IllegalArgumentException("numBatchedTokens must equal the chunks' " + sum + " tokens, got "
                    + numBatchedTokens);
        }
    }

    /** Whether the step has neither chunks nor preemptions. */
    public boolean isEmpty() {
        return chunks.isEmpty() && preempted.isEmpty();
    }
}
