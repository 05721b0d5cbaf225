#pragma once
#include "common.cuh"

// Varlen prefill attention over the paged cache (the chunk's own K/V are already written), tiled with an
// online softmax as in FlashAttention: a block takes a tile of up to 8 consecutive query tokens of one
// sequence and one query head; one warp per query row; keys and values stream through shared memory 32 at a
// time. Runs on CUDA cores in fp32 (no mma/wmma tensor-core path yet).
//
// tile_start: [n_tiles] first token index of each tile; tile_len: [n_tiles] rows in it (1..8); all rows of a
// tile belong to sequence token_seq[tile_start] and have consecutive positions.
// q: [n_tokens, num_heads * head_dim] f32; out: [n_tokens, num_heads * head_dim] bf16.
// grid (n_tiles, num_heads), block 256 (8 warps),
// dynamic shared memory (8 * head_dim + 32 * (head_dim + 1) + 32 * head_dim) * 4 bytes; head_dim <= 256.
#define BK_PREFILL_ROWS 8
#define BK_PREFILL_KEYS 32

extern "C" __global__ void bk_paged_attention_prefill(bf16* out, const float* q, const bf16* k_cache,
                                                      const bf16* v_cache, const int* tile_start,
                                                      const int* tile_len, const int* token_seq,
                                                      const int* positions, const int* block_tables,
                                                      int max_blocks_per_seq, int n_tiles, int num_heads,
                                                      int num_kv_heads, int head_dim, int block_size,
                                                      int sliding_window, float scale) {
    BK_DYNAMIC_SHARED(float, smem);
    const int tile = blockIdx.x, h = blockIdx.y;
    if (tile >= n_tiles) return;
    const int kstride = head_dim + 1;  // NOTE: padded so lanes reading different keys hit different banks
    float* qs = smem;                                   // (8, head_dim)
    float* ks = qs + BK_PREFILL_ROWS * head_dim;        // (32, head_dim + 1)
    float* vs = ks + BK_PREFILL_KEYS * kstride;         // (32, head_dim)
    const int t0 = tile_start[tile], rows = tile_len[tile];
    const int* table = block_tables + (int64_t)token_seq[t0] * max_blocks_per_seq;
    const int kvh = h / (num_heads / num_kv_heads);
    const int lane = threadIdx.x & 31, r = threadIdx.x >> 5;
    for (int i = threadIdx.x; i < BK_PREFILL_ROWS * head_dim; i += blockDim.x) {
        const int row = i / head_dim, d = i % head_dim;
        qs[i] = row < rows ? q[(int64_t)(t0 + row) * num_heads * head_dim + (int64_t)h * head_dim + d] : 0.f;
    }
    const bool active = r < rows;
    const int ctx = active ? positions[t0 + r] + 1 : 0;
    const int first = sliding_window > 0 ? max(0, ctx - sliding_window) : 0;
    const int last_ctx = positions[t0 + rows - 1] + 1;
    const int first_ctx = positions[t0] + 1;
    const int kbegin = sliding_window > 0 ? max(0, first_ctx - sliding_window) : 0;
    float m = -CUDART_INF_F, l = 0.f;
    float acc[8];  // dims lane + 32 i
#pragma unroll
    for (int i = 0; i < 8; i++) acc[i] = 0.f;
    for (int c = kbegin; c < last_ctx; c += BK_PREFILL_KEYS) {
        __syncthreads();  // the previous chunk is consumed (and qs is loaded, on the first pass)
        for (int i = threadIdx.x; i < BK_PREFILL_KEYS * head_dim; i += blockDim.x) {
            const int j = i / head_dim, d = i % head_dim, key = c + j;
            float kv = 0.f, vv = 0.f;
            if (key < last_ctx) {
                const int64_t slot = (int64_t)table[key / block_size] * block_size + key % block_size;
                const int64_t off = (slot * num_kv_heads + kvh) * head_dim + d;
                kv = __bfloat162float(k_cache[off]);
                vv = __bfloat162float(v_cache[off]);
            }
            ks[j * kstride + d] = kv;
            vs[j * head_dim + d] = vv;
        }
        __syncthreads();
        if (!active) continue;
        const int key = c + lane;
        const bool valid = key < ctx && key >= first;
        float s = -CUDART_INF_F;
        if (valid) {
            float dot = 0.f;
            for (int d = 0; d < head_dim; d++) dot += qs[r * head_dim + d] * ks[lane * kstride + d];
            s = dot * scale;
        }
        const float mc = bk_warp_max(s);
        if (mc == -CUDART_INF_F) continue;  // the whole chunk is masked for this row
        const float mn = fmaxf(m, mc);
        const float corr = expf(m - mn);  // exp(-inf) = 0 on the first unmasked chunk
        const float pj = valid ? expf(s - mn) : 0.f;
        l = l * corr + bk_warp_sum(pj);
#pragma unroll
        for (int i = 0; i < 8; i++) acc[i] *= corr;
        for (int j = 0; j < BK_PREFILL_KEYS; j++) {
            const float w = __shfl_sync(0xffffffffu, pj, j);
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int d = lane + 32 * i;
                if (d < head_dim) acc[i] += w * vs[j * head_dim + d];
            }
        }
        m = mn;
    }
    if (!active) return;
    bf16* dst = out + (int64_t)(t0 + r) * num_heads * head_dim + (int64_t)h * head_dim;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const int d = lane + 32 * i;
        if (d < head_dim) dst[d] = __float2bfloat16(acc[i] / l);
    }
}
