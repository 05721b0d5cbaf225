package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.engine.internal.runner.BatchInput;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The host half of one CUDA step: every index the kernels need, packed as flat ints so a step makes one
 * host-to-device copy. Sequences with a single token go to the split-K decode kernel (up to
 * {@code maxDecodeQueries}); every other token is cut into prefill tiles of up to 8 (16 for wmma) consecutive tokens
 * of one sequence. Sizes are fixed at construction; {@link #build} allocates nothing.
 *
 * <p>Layout, each fixed section sized for the maximum: {@code ids, positions, slots, tokenSeq, queryTokens,
 * tileStart, tileLen, logitRows (maxTokens each), feed (maxTokens pairs: a token and the previous step's logit row
 * whose sampled id it takes on the device, see {@link #feed})}, then the block tables of this step's sequences with this
 * step's longest table as the row stride, so a step copies only what its sequences hold (a 131k-token pool
 * would otherwise pad every row to 8,192 entries).
 */
public final class StepPlan {

    /** Sections of the packed buffer, in order. */
    public enum Section {
        IDS, POSITIONS, SLOTS, TOKEN_SEQ, QUERY_TOKENS, TILE_START, TILE_LEN, LOGIT_ROWS, FEED(2), BLOCK_TABLES;

        private final int width; // ints per token of the step

        Section() {
            this(1);
        }

        Section(int width) {
            this.width = width;
        }
    }

    private final int maxTokens;
    private final int maxBlocksPerSeq;
    private final int blockSize;
    private final int numBlocks;
    private final int vocab;
    private final int maxPositions;
    private final int maxDecodeQueries;
    private final int tileRows;
    private final long[] offsets = new long[Section.values().length]; // (section) int index in the buffer

    private MemorySegment ints; // the buffer the last build packed
    private int numTokens;
    private int numSeqs;
    private int numQueries;
    private int numTiles;
    private int numLogitRows;
    private int numFeeds;
    private int maxDecodeContext;
    private int tableStride;

    public StepPlan(int maxTokens, int maxBlocksPerSeq, int blockSize, int numBlocks, int vocab, int maxPositions,
                    int maxDecodeQueries) {
        this(maxTokens, maxBlocksPerSeq, blockSize, numBlocks, vocab, maxPositions, maxDecodeQueries, 8);
    }

    /** As above, cutting prefill tiles of up to {@code tileRows} tokens (8 for the CUDA-core kernel, 16 for wmma). */
    public StepPlan(int maxTokens, int maxBlocksPerSeq, int blockSize, int numBlocks, int vocab, int maxPositions,
                    int maxDecodeQueries, int tileRows) {
        this.tileRows = tileRows;
        this.maxTokens = maxTokens;
        this.maxBlocksPerSeq = maxBlocksPerSeq;
        this.blockSize = blockSize;
        this.numBlocks = numBlocks;
        this.vocab = vocab;
        this.maxPositions = maxPositions;
        this.maxDecodeQueries = maxDecodeQueries;
        long at = 0;
        for (Section s : Section.values()) {
            offsets[s.ordinal()] = at;
            at += (long) maxTokens * s.width;
        }
    }

    /** Ints a packed buffer needs at most. */
    public static long intCount(int maxTokens, int maxBlocksPerSeq) {
        long fixed = 0;
        for (Section s : Section.values()) {
            fixed += s == Section.BLOCK_TABLES ? 0 : s.width;
        }
        return (long) maxTokens * fixed + (long) maxTokens * maxBlocksPerSeq;
    }

    /** Validates {@code b} and packs every section into {@code target} (at least {@link #intCount} ints); returns this. */
    public StepPlan build(BatchInput b, MemorySegment target) {
        return build(b, target, false);
    }

    /**
     * As {@link #build(BatchInput, MemorySegment)}; with {@code fullStride} the block tables keep the pool's
     * longest row ({@code maxBlocksPerSeq}) as their stride, as a captured graph's kernels were given it.
     */
    public StepPlan build(BatchInput b, MemorySegment target, boolean fullStride) {
        int n = b.numTokens();
        if (n > maxTokens) {
            throw new IllegalArgumentException("batch has " + n + " tokens; this runner takes at most " + maxTokens
                    + " per step (maxBatchTokens)");
        }
        ints = target;
        numTokens = n;
        numFeeds = 0;
        numSeqs = b.numSeqs();
        numQueries = 0;
        numTiles = 0;
        maxDecodeContext = 0;
        tableStride = fullStride ? maxBlocksPerSeq : 1;
        for (int[] table : b.blockTables()) {
            tableStride = Math.max(tableStride, Math.min(table.length, maxBlocksPerSeq));
        }
        for (int s = 0; s < numSeqs; s++) {
            // NOTE: positions are checked against the table below, so entries past a table's end are never read.
            int[] table = b.blockTables()[s];
            for (int i = 0; i < tableStride; i++) {
                put(Section.BLOCK_TABLES, (long) s * tableStride + i, i < table.length ? table[i] : 0);
            }
            int start = b.seqStarts()[s];
            int end = b.seqStarts()[s + 1];
            for (int t = start; t < end; t++) {
                mapToken(b, s, t, table);
            }
            if (end - start == 1 && numQueries < maxDecodeQueries) {
                put(Section.QUERY_TOKENS, numQueries++, start);
                maxDecodeContext = Math.max(maxDecodeContext, b.positions()[start] + 1);
            } else {
                for (int t = start; t < end; t += tileRows) {
                    put(Section.TILE_START, numTiles, t);
                    put(Section.TILE_LEN, numTiles++, Math.min(tileRows, end - t));
                }
            }
        }
        numLogitRows = b.logitIndices().length;
        for (int i = 0; i < numLogitRows; i++) {
            put(Section.LOGIT_ROWS, i, b.logitIndices()[i]);
        }
        return this;
    }

    /**
     * Packs, after {@link #build}, the tokens whose ids the device takes from the previous step's sampled ids:
     * {@code previousRows[t]} is the logit row of that step for token t, or -1 when {@code tokenIds[t]} holds the id
     * (null: none). Returns how many there are.
     */
    public int feed(int[] previousRows) {
        numFeeds = 0;
        if (previousRows == null) {
            return 0;
        }
        int n = Math.min(previousRows.length, numTokens);
        for (int t = 0; t < n; t++) {
            if (previousRows[t] >= 0) {
                put(Section.FEED, 2L * numFeeds, t);
                put(Section.FEED, 2L * numFeeds + 1, previousRows[t]);
                numFeeds++;
            }
        }
        return numFeeds;
    }

    /** Tokens of the last build fed from the previous step's sampled ids ({@link #feed}). */
    public int numFeeds() {
        return numFeeds;
    }

    /** Whether every sequence of the last build is one token through the decode kernel (a graph can replay it). */
    public boolean pureDecode() {
        return numTiles == 0 && numQueries == numSeqs && numTokens == numSeqs;
    }

    /**
     * Pads a {@link #pureDecode()} step built with a full stride to {@code bucket} sequences: each extra one is a
     * token at position 0 of block 0 (the null block) that writes no KV (slot -1), with a logit row of its own;
     * its outputs are discarded. A graph captured for the bucket then sees the shapes it was captured with.
     */
    public void padDecode(int bucket) {
        if (!pureDecode() || tableStride != maxBlocksPerSeq || bucket < numTokens || bucket > maxDecodeQueries) {
            throw new IllegalStateException("only a pure decode step of at most " + bucket + " tokens, built with the"
                    + " full block-table stride, pads to " + bucket);
        }
        for (int t = numTokens; t < bucket; t++) {
            put(Section.IDS, t, 0);
            put(Section.POSITIONS, t, 0);
            put(Section.SLOTS, t, -1);
            put(Section.TOKEN_SEQ, t, t);
            put(Section.QUERY_TOKENS, t, t);
            put(Section.LOGIT_ROWS, t, t);
            for (int i = 0; i < tableStride; i++) {
                put(Section.BLOCK_TABLES, (long) t * tableStride + i, 0);
            }
        }
        for (int r = numLogitRows; r < numTokens; r++) {
            put(Section.LOGIT_ROWS, r, r);
        }
        numTokens = bucket;
        numSeqs = bucket;
        numQueries = bucket;
    }

    private void mapToken(BatchInput b, int s, int t, int[] table) {
        int token = b.tokenIds()[t];
        if (token < 0 || token >= vocab) {
            throw new IllegalArgumentException("token id " + token + " is outside [0, " + vocab + ")");
        }
        int pos = b.positions()[t];
        if (pos < 0 || pos >= maxPositions || pos / blockSize >= Math.min(table.length, maxBlocksPerSeq)) {
            throw new IllegalArgumentException("position " + pos + " of sequence " + s + " is past its "
                    + table.length + " KV blocks or the context of " + maxPositions);
        }
        int block = table[pos / blockSize];
        if (block < 0 || block >= numBlocks) {
            throw new IllegalArgumentException("block " + block + " is outside the pool of " + numBlocks);
        }
        put(Section.IDS, t, token);
        put(Section.POSITIONS, t, pos);
        put(Section.SLOTS, t, block * blockSize + pos % blockSize);
        put(Section.TOKEN_SEQ, t, s);
    }

    private void put(Section s, long i, int v) {
        ints.setAtIndex(ValueLayout.JAVA_INT, offsets[s.ordinal()] + i, v);
    }

    /** Value {@code i} of section {@code s} in the last buffer built (tests and debugging). */
    public int get(Section s, int i) {
        return ints.getAtIndex(ValueLayout.JAVA_INT, offsets[s.ordinal()] + i);
    }

    /** Byte offset of section {@code s} in the buffer (and in its device copy). */
    public long byteOffset(Section s) {
        return offsets[s.ordinal()] * 4;
    }

    /** Bytes to copy to the device this step: the fixed sections and this step's block tables. */
    public long usedBytes() {
        return byteOffset(Section.BLOCK_TABLES) + 4L * numSeqs * tableStride;
    }

    public int numTokens() {
        return numTokens;
    }

    public int numSeqs() {
        return numSeqs;
    }

    /** Single-token sequences routed to the split-K decode kernel. */
    public int numQueries() {
        return numQueries;
    }

    /** Prefill tiles (up to 8 tokens of one sequence each). */
    public int numTiles() {
        return numTiles;
    }

    public int numLogitRows() {
        return numLogitRows;
    }

    /** Longest context of this step's decode queries (0 without any). */
    public int maxDecodeContext() {
        return maxDecodeContext;
    }

    /** Entries per block-table row this step: its longest table (the kernels' {@code max_blocks_per_seq}). */
    public int blockTableStride() {
        return tableStride;
    }
}
