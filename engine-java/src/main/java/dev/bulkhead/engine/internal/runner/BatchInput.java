package dev.bulkhead.engine.internal.runner;

import java.util.Arrays;

/**
 * One forward step over a ragged batch: every sequence contributes a run of consecutive tokens (a prefill
 * chunk or one decode token), laid end to end with no padding. This is the backend-facing half of a
 * scheduler step; the backend never sees requests.
 *
 * @param tokenIds       (numTokens) token ids, sequence after sequence
 * @param positions      (numTokens) position of each token in its sequence
 * @param seqStarts      (numSeqs + 1) offsets into tokenIds: sequence s owns [seqStarts[s], seqStarts[s+1])
 * @param blockTables    (numSeqs) the KV blocks of each sequence, in order; position p lives in block
 *                       {@code blockTables[s][p / blockSize]} at offset {@code p % blockSize}
 * @param logitIndices   token indices whose logits the caller needs (usually each sequence's last token)
 */
public record BatchInput(int[] tokenIds, int[] positions, int[] seqStarts, int[][] blockTables, int[] logitIndices) {

    public BatchInput {
        if (tokenIds.length == 0) {
            throw new IllegalArgumentException("batch has no tokens");
        }
        if (positions.length != tokenIds.length) {
            throw new IllegalArgumentException("positions has " + positions.length + " entries for "
                    + tokenIds.length + " tokens");
        }
        if (seqStarts.length != blockTables.length + 1 || seqStarts[0] != 0
                || seqStarts[seqStarts.length - 1] != tokenIds.length) {
            throw new IllegalArgumentException("seqStarts must run from 0 to numTokens with one entry per sequence + 1");
        }
        for (int s = 0; s < blockTables.length; s++) {
            if (seqStarts[s + 1] <= seqStarts[s]) {
                throw new IllegalArgumentException("sequence " + s + " has no tokens in this batch");
            }
        }
        for (int i : logitIndices) {
            if (i < 0 || i >= tokenIds.length) {
                throw new IllegalArgumentException("logit index " + i + " is outside [0, " + tokenIds.length + ")");
            }
        }
    }

    /** A single sequence's run of tokens starting at {@code startPos}, asking for the last token's logits. */
    public static BatchInput single(int[] tokens, int startPos, int[] blockTable) {
        int[] pos = new int[tokens.length];
        Arrays.setAll(pos, i -> startPos + i);
        return new BatchInput(tokens, pos, new int[] {0, tokens.length}, new int[][] {blockTable},
                new int[] {tokens.length - 1});
    }

    public int numTokens() {
        return tokenIds.length;
    }

    public int numSeqs() {
        return blockTables.length;
    }
}
