package dev.bulkhead.engine;

import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.scheduler.ScheduledChunk;
import dev.bulkhead.scheduler.SchedulerOutput;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * A scheduler step as a runner takes it: the ragged batch of its chunks, and, for a step scheduled ahead of the one
 * in flight, where each placeholder token's id comes from.
 */
final class StepBatch {

    private StepBatch() {
    }

    /**
     * The batch of {@code out}; a placeholder token (see {@link ScheduledChunk#placeholders()}) gets
     * {@code placeholder.applyAsInt(requestId)}: its real id when the host knows it, or any valid id when the
     * device feeds it ({@link #feedRows}).
     */
    static BatchInput of(SchedulerOutput out, ToIntFunction<String> placeholder) {
        int n = out.numBatchedTokens();
        int seqs = out.chunks().size();
        int[] tokens = new int[n];
        int[] positions = new int[n];
        int[] starts = new int[seqs + 1];
        int[][] tables = new int[seqs][];
        int[] logitRows = new int[sampledRows(out)];
        int t = 0;
        int row = 0;
        for (int s = 0; s < seqs; s++) {
            ScheduledChunk c = out.chunks().get(s);
            starts[s] = t;
            int[] ids = c.tokenIds();
            int known = ids.length - c.placeholders();
            for (int i = 0; i < ids.length; i++) {
                tokens[t] = i < known ? ids[i] : placeholder.applyAsInt(c.requestId());
                positions[t] = c.startPosition() + i;
                t++;
            }
            tables[s] = c.blockTable();
            if (c.sample()) {
                logitRows[row++] = t - 1;
            }
        }
        starts[seqs] = t;
        return new BatchInput(tokens, positions, starts, tables, logitRows);
    }

    /**
     * Per token of {@code out}'s batch, the logit row of the step before whose sampled id it takes on the device
     * ({@code previousRowOf}: request id to its row there), or -1 for a known token; null when no token is a
     * placeholder.
     *
     * @throws IllegalStateException when a placeholder's request sampled nothing in the step before
     */
    static int[] feedRows(SchedulerOutput out, Map<String, Integer> previousRowOf) {
        int[] rows = null;
        int t = 0;
        for (ScheduledChunk c : out.chunks()) {
            for (int i = 0; i < c.numTokens(); i++, t++) {
                if (i < c.numTokens() - c.placeholders()) {
                    continue;
                }
                if (c.placeholders() > 1) {
                    throw new IllegalStateException("request " + c.requestId() + " has " + c.placeholders()
                            + " placeholders; one step ahead feeds at most one");
                }
                Integer previous = previousRowOf.get(c.requestId());
                if (previous == null) {
                    throw new IllegalStateException("request " + c.requestId() + " has a placeholder but sampled"
                            + " nothing in the step before");
                }
                if (rows == null) {
                    rows = new int[out.numBatchedTokens()];
                    java.util.Arrays.fill(rows, -1);
                }
                rows[t] = previous;
            }
        }
        return rows;
    }

    /** Chunks of {@code out} that sample a token (one logit row each). */
    static int sampledRows(SchedulerOutput out) {
        int n = 0;
        for (ScheduledChunk c : out.chunks()) {
            n += c.sample() ? 1 : 0;
        }
        return n;
    }
}
