package dev.bulkhead.scheduler;

import java.util.Arrays;

/**
 * The tokens one request computes in a step. Arrays are copied in and out; use {@link #copyTokensTo} and
 * {@link #copyBlockTableTo} to fill flat batch buffers without allocating.
 *
 * @param requestId     the request
 * @param tokenIds      tokens to compute this step (at least one)
 * @param startPosition position of {@code tokenIds[0]}; positions before it are already in the KV cache
 * @param blockTable    every KV block of the sequence so far, enough for {@code startPosition + tokenIds.length}
 *                      tokens; token at position {@code p} lives in slot {@code blockTable[p / blockSize] *
 *                      blockSize + p % blockSize}
 * @param sample        whether the chunk reaches the end of the request's tokens, so the engine samples a new token
 *                      from the logits of its last position
 * @param placeholders  trailing tokens whose values are not known yet (their {@code tokenIds} entries are -1): each
 *                      is the token the request samples in the step still executing before this one (asynchronous
 *                      scheduling, {@link Scheduler#scheduleAhead()}); the runner takes it from that step's output
 *                      on the device. Always 0 from {@link Scheduler#schedule()}
 */
public record ScheduledChunk(String requestId, int[] tokenIds, int startPosition, int[] blockTable, boolean sample,
                             int placeholders) {

    public ScheduledChunk {
        if (requestId == null) {
            throw new IllegalArgumentException("requestId must not be null");
        }
        if (tokenIds == null || tokenIds.length == 0) {
            throw new IllegalArgumentException("tokenIds of " + requestId + " must hold at least one token");
        }
        if (startPosition < 0) {
            throw new IllegalArgumentException("startPosition of " + requestId + " must be >= 0, got "
                    + startPosition);
        }
        if (blockTable == null || blockTable.length == 0) {
            throw new IllegalArgumentException("blockTable of " + requestId + " must hold at least one block");
        }
        if (placeholders < 0 || placeholders > tokenIds.length) {
            throw new IllegalArgumentException("placeholders of " + requestId + " must be in [0, " + tokenIds.length
                    + "], got " + placeholders);
        }
        tokenIds = tokenIds.clone();
        blockTable = blockTable.clone();
    }

    /** A chunk whose tokens are all known. */
    public ScheduledChunk(String requestId, int[] tokenIds, int startPosition, int[] blockTable, boolean sample) {
        this(requestId, tokenIds, startPosition, blockTable, sample, 0);
    }

    /** A copy of the tokens to compute. */
    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** A copy of the block table. */
    @Override
    public int[] blockTable() {
        return blockTable.clone();
    }

    /** Tokens computed this step. */
    public int numTokens() {
        return tokenIds.length;
    }

    /** Tokens in the sequence's KV after this step: {@code startPosition + numTokens()}. */
    public int endPosition() {
        return startPosition + tokenIds.length;
    }

    /** Blocks in the block table. */
    public int numBlocks() {
        return blockTable.length;
    }

    /** Copies the tokens into {@code dst} at {@code offset}. */
    public void copyTokensTo(int[] dst, int offset) {
        System.arraycopy(tokenIds, 0, dst, offset, tokenIds.length);
    }

    /** Copies the block table into {@code dst} at {@code offset}. */
    public void copyBlockTableTo(int[] dst, int offset) {
        System.arraycopy(blockTable, 0, dst, offset, blockTable.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScheduledChunk c && requestId.equals(c.requestId) && startPosition == c.startPosition
                && sample == c.sample && placeholders == c.placeholders && Arrays.equals(tokenIds, c.tokenIds)
                && Arrays.equals(blockTable, c.blockTable);
    }

    @Override
    public int hashCode() {
        return (requestId.hashCode() * 31 + startPosition) * 31 + Arrays.hashCode(tokenIds);
    }

    @Override
    public String toString() {
        return "ScheduledChunk[" + requestId + ", positions " + startPosition + ".." + (endPosition() - 1)
                + ", blocks " + Arrays.toString(blockTable) + (sample ? ", sample" : "")
                + (placeholders > 0 ? ", " + placeholders + " placeholder" : "") + "]";
    }
}
