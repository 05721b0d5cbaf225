package dev.bulkhead.kernels;

import dev.bulkhead.ffi.KernelSignature;

/**
 * Every kernel in {@code bulkhead.fatbin} with its launch signature, written in the order of the C
 * parameters of its {@code extern "C"} definition under {@code src/main/cuda}. Keep the two in step: a test
 * checks every name is in the built fatbin, and a launch with a wrong type fails in {@code KernelArgs}.
 */
public enum Kernel {

    /** embedding.cuh: {@code out[t] = float(table[ids[t]])}; grid (n_tokens). */
    EMBEDDING_GATHER("bk_embedding_gather(ptr out, ptr table, ptr ids, i32 n_tokens, i32 hidden)"),
    /**
     * embedding.cuh: {@code ids[feed[2i]] = max(sampled[feed[2i + 1]], 0)}, decode tokens fed from the previous step's
     * sampled ids on the device (asynchronous scheduling); grid (ceil(n_feed / 128)), block 128.
     */
    FEED_SAMPLED_IDS("bk_feed_sampled_ids(ptr ids, ptr sampled, ptr feed, i32 n_feed)"),
    /** rmsnorm.cuh: {@code x += residual; out = bf16(rmsnorm(x) * w)}; grid (n_tokens), block 256. */
    FUSED_ADD_RMSNORM("bk_fused_add_rmsnorm(ptr out, ptr x, ptr residual, ptr weight, i32 n_tokens, i32 hidden, f32 eps)"),
    /** rmsnorm.cuh: final norm of the rows that need logits; grid (n_rows), block 256. */
    RMSNORM_ROWS("bk_rmsnorm_rows(ptr out, ptr x, ptr rows, ptr weight, i32 n_rows, i32 hidden, f32 eps)"),
    /** rope_kv.cuh: bias, qk-norm, RoPE and the paged K/V write; grid (n_tokens, heads + kv heads), block 128. */
    ROPE_QKV_WRITE("bk_rope_qkv_write(ptr q_out, ptr k_cache, ptr v_cache, ptr qkv, ptr bias, ptr q_norm, ptr k_norm,"
            + " ptr inv_freq, ptr positions, ptr slot_mapping, i32 n_tokens, i32 num_heads, i32 num_kv_heads,"
            + " i32 head_dim, i32 rot_dim, i32 neox, f32 eps)"),
    /** attention_decode.cuh: split-K partials; grid (n_queries, heads, partitions), block 128. */
    PAGED_ATTENTION_DECODE("bk_paged_attention_decode(ptr part_out, ptr part_max, ptr part_sum, ptr q, ptr k_cache,"
            + " ptr v_cache, ptr query_tokens, ptr token_seq, ptr positions, ptr block_tables, i32 max_blocks_per_seq,"
            + " i32 n_queries, i32 num_heads, i32 num_kv_heads, i32 head_dim, i32 block_size, i32 partition_size,"
            + " i32 sliding_window, f32 scale)"),
    /** attention_decode.cuh: merge of the partitions; grid (n_queries, heads), block 128. */
    PAGED_ATTENTION_REDUCE("bk_paged_attention_reduce(ptr out, ptr part_out, ptr part_max, ptr part_sum,"
            + " ptr query_tokens, i32 n_queries, i32 num_heads, i32 head_dim, i32 max_partitions)"),
    /** attention_prefill.cuh: tiled varlen attention with online softmax; grid (n_tiles, heads), block 256. */
    PAGED_ATTENTION_PREFILL("bk_paged_attention_prefill(ptr out, ptr q, ptr k_cache, ptr v_cache, ptr tile_start,"
            + " ptr tile_len, ptr token_seq, ptr positions, ptr block_tables, i32 max_blocks_per_seq, i32 n_tiles,"
            + " i32 num_heads, i32 num_kv_heads, i32 head_dim, i32 block_size, i32 sliding_window, f32 scale)"),
    /**
     * attention_prefill_tc.cuh: the same on tensor cores (wmma), K/V tiles shared by a GQA group's heads;
     * grid (n_tiles, kv heads, ceil(group / heads_per_block)), block 32 * heads_per_block.
     */
    PAGED_ATTENTION_PREFILL_TC("bk_paged_attention_prefill_tc(ptr out, ptr q, ptr k_cache, ptr v_cache, ptr tile_start,"
            + " ptr tile_len, ptr token_seq, ptr positions, ptr block_tables, i32 max_blocks_per_seq, i32 n_tiles,"
            + " i32 num_heads, i32 num_kv_heads, i32 head_dim, i32 block_size, i32 sliding_window, f32 scale,"
            + " i32 heads_per_block)"),
    /** activation.cuh: SwiGLU over the fused gate/up output; grid (ceil(ffn / block), n_tokens). */
    SILU_MUL("bk_silu_mul(ptr out, ptr gate_up, i32 n_tokens, i32 ffn)"),
    /** sampling.cuh: greedy ids; grid (n_rows), block 256. */
    ARGMAX_ROWS("bk_argmax_rows(ptr out, ptr logits, i32 n_rows, i32 vocab)"),
    /**
     * sampling.cuh: the host sampler's penalties, temperature, top-k, top-p and min-p, with Philox draws keyed by
     * (seed, step); grid (n_rows), block 256.
     */
    SAMPLE_ROWS("bk_sample_rows(ptr out, ptr logits, ptr rows, ptr temperature, ptr top_k, ptr top_p, ptr min_p,"
            + " ptr repetition, ptr frequency, ptr presence, ptr penalty_start, ptr penalty_ids, ptr penalty_counts,"
            + " ptr seeds, ptr steps, i32 n_rows, i32 vocab)"),
    /** convert.cuh. */
    CONVERT_F32_TO_BF16("bk_convert_f32_to_bf16(ptr out, ptr in, i64 n)"),
    /** convert.cuh. */
    CONVERT_BF16_TO_F32("bk_convert_bf16_to_f32(ptr out, ptr in, i64 n)"),
    /** convert.cuh. */
    CONVERT_F32_TO_F16("bk_convert_f32_to_f16(ptr out, ptr in, i64 n)"),
    /** convert.cuh. */
    CONVERT_F16_TO_F32("bk_convert_f16_to_f32(ptr out, ptr in, i64 n)");

    /** Query rows per prefill tile (BK_PREFILL_ROWS in attention_prefill.cuh). */
    public static final int PREFILL_ROWS = 8;
    /** Keys per shared-memory chunk of the prefill kernel (BK_PREFILL_KEYS). */
    public static final int PREFILL_KEYS = 32;
    /** Largest head_dim the attention and RoPE kernels take (register and shared arrays are sized for it). */
    public static final int MAX_HEAD_DIM = 256;

    private final KernelSignature signature;

    Kernel(String signature) {
        this.signature = KernelSignature.parse(signature);
    }

    public KernelSignature signature() {
        return signature;
    }

    /** The exported symbol. */
    public String symbol() {
        return signature.name();
    }

    /** Query rows per tile of {@link #PAGED_ATTENTION_PREFILL_TC} (BK_TC_ROWS), one wmma tile. */
    public static final int PREFILL_TC_ROWS = 16;

    /** Dynamic shared memory of {@link #PAGED_ATTENTION_PREFILL_TC} (the layout in attention_prefill_tc.cuh). */
    public static int prefillTcSharedBytes(int headDim, int headsPerBlock) {
        int kv = 2 * align32(16 * headDim * 2);
        int perWarp = align32(16 * headDim * 2) + align32(16 * 16 * 4) + align32(16 * 16 * 2) + align32(16 * headDim * 4)
                + align32(3 * 16 * 4);
        return kv + headsPerBlock * perWarp;
    }

    private static int align32(int bytes) {
        return (bytes + 31) / 32 * 32;
    }

    /** Dynamic shared memory of {@link #PAGED_ATTENTION_PREFILL} for {@code headDim}. */
    public static int prefillSharedBytes(int headDim) {
        return 4 * (PREFILL_ROWS * headDim + PREFILL_KEYS * (headDim + 1) + PREFILL_KEYS * headDim);
    }

    /** Threads of a {@link #PAGED_ATTENTION_DECODE} block (BK_DECODE_THREADS). */
    public static final int DECODE_THREADS = 128;

    /**
     * Dynamic shared memory of {@link #PAGED_ATTENTION_DECODE}: the query, the partition's scores, and the
     * P V partial sums of the keys worked side by side (8 dimensions a thread: 8 * threads floats in all).
     */
    public static int decodeSharedBytes(int headDim, int partitionSize) {
        return 4 * (headDim + partitionSize + 8 * DECODE_THREADS);
    }
}
