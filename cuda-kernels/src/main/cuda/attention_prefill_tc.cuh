#pragma once
#include "common.cuh"

// Varlen prefill attention on tensor cores, FlashAttention-2 style, over the paged cache (the chunk's own K/V
// are already written). A block takes a tile of up to 16 consecutive query tokens of one sequence and the
// query heads [head0, head0 + heads_per_block) of one KV head's group, one warp per head: every K/V tile of 16
// keys is read once into shared memory and used by all of the group's heads. Per key tile each warp computes
// S = Q K^T with wmma (bf16 in, fp32 accumulate), applies the causal and sliding-window masks and the online
// softmax row by row (lanes 0..15, one row each), rounds P to bf16 and adds P V with wmma into its fp32 output
// in shared memory (wmma fragments cannot be rescaled by row, so the output lives in shared memory).
//
// tile_start: [n_tiles] first token index of each tile; tile_len: [n_tiles] rows in it (1..16); all rows of a
// tile belong to sequence token_seq[tile_start] and have consecutive positions.
// q: [n_tokens, num_heads * head_dim] f32; out: [n_tokens, num_heads * head_dim] bf16.
// grid (n_tiles, num_kv_heads, ceil(group / heads_per_block)), block 32 * heads_per_block,
// dynamic shared memory bk_prefill_tc_shared_bytes(head_dim, heads_per_block); head_dim a multiple of 16, <= 256.
#define BK_TC_ROWS 16
#define BK_TC_KEYS 16

// Bytes of one shared region, rounded up to wmma's 32-byte alignment.
#define BK_TC_ALIGN(bytes) (((bytes) + 31) / 32 * 32)

extern "C" __global__ void bk_paged_attention_prefill_tc(bf16* out, const float* q, const bf16* k_cache,
                                                         const bf16* v_cache, const int* tile_start,
                                                         const int* tile_len, const int* token_seq,
                                                         const int* positions, const int* block_tables,
                                                         int max_blocks_per_seq, int n_tiles, int num_heads,
                                                         int num_kv_heads, int head_dim, int block_size,
                                                         int sliding_window, float scale, int heads_per_block) {
    using namespace nvcuda;
    BK_DYNAMIC_SHARED(unsigned char, tc_smem);  // NOTE: extern __shared__ arrays of one name are one symbol
    const int tile = blockIdx.x, kvh = blockIdx.y;
    if (tile >= n_tiles) return;
    const int group = num_heads / num_kv_heads;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int h_in_group = blockIdx.z * heads_per_block + warp;
    const bool active = h_in_group < group;  // NOTE: the last block of a group may have idle warps; they still sync
    const int h = kvh * group + h_in_group;
    // Shared layout: K and V tiles for the block, then per warp Q, S, P, O and the row state.
    bf16* ks = reinterpret_cast<bf16*>(tc_smem);                                                        // (16, hd)
    bf16* vs = reinterpret_cast<bf16*>(tc_smem + BK_TC_ALIGN(BK_TC_KEYS * head_dim * 2));               // (16, hd)
    unsigned char* per_warp = tc_smem + 2 * BK_TC_ALIGN(BK_TC_KEYS * head_dim * 2);
    const int q_bytes = BK_TC_ALIGN(BK_TC_ROWS * head_dim * 2);
    const int s_bytes = BK_TC_ALIGN(BK_TC_ROWS * BK_TC_KEYS * 4);
    const int p_bytes = BK_TC_ALIGN(BK_TC_ROWS * BK_TC_KEYS * 2);
    const int o_bytes = BK_TC_ALIGN(BK_TC_ROWS * head_dim * 4);
    const int state_bytes = BK_TC_ALIGN(3 * BK_TC_ROWS * 4);
    unsigned char* mine = per_warp + (size_t)warp * (q_bytes + s_bytes + p_bytes + o_bytes + state_bytes);
    bf16* qs = reinterpret_cast<bf16*>(mine);                                        // (16, hd)
    float* ss = reinterpret_cast<float*>(mine + q_bytes);                            // (16, 16)
    bf16* ps = reinterpret_cast<bf16*>(mine + q_bytes + s_bytes);                    // (16, 16)
    float* os = reinterpret_cast<float*>(mine + q_bytes + s_bytes + p_bytes);        // (16, hd)
    float* row_m = reinterpret_cast<float*>(mine + q_bytes + s_bytes + p_bytes + o_bytes);  // (16)
    float* row_l = row_m + BK_TC_ROWS;                                               // (16)
    float* row_corr = row_l + BK_TC_ROWS;                                            // (16)

    const int t0 = tile_start[tile], rows = tile_len[tile];
    const int* table = block_tables + (int64_t)token_seq[t0] * max_blocks_per_seq;
    const int first_pos = positions[t0];
    const int last_ctx = positions[t0 + rows - 1] + 1;
    const int kbegin = sliding_window > 0 ? max(0, first_pos + 1 - sliding_window) : 0;
    if (active) {
        for (int i = lane; i < BK_TC_ROWS * head_dim; i += 32) {
            const int r = i / head_dim, d = i % head_dim;
            qs[i] = __float2bfloat16(r < rows ? q[(int64_t)(t0 + r) * num_heads * head_dim + (int64_t)h * head_dim + d] : 0.f);
            os[i] = 0.f;
        }
        if (lane < BK_TC_ROWS) {
            row_m[lane] = -CUDART_INF_F;
            row_l[lane] = 0.f;
        }
    }
    for (int c = kbegin; c < last_ctx; c += BK_TC_KEYS) {
        __syncthreads();  // the previous K/V tiles are consumed
        for (int i = threadIdx.x; i < BK_TC_KEYS * head_dim; i += blockDim.x) {
            const int j = i / head_dim, d = i % head_dim, key = c + j;
            bf16 kv = __float2bfloat16(0.f), vv = __float2bfloat16(0.f);
            if (key < last_ctx) {
                const int64_t slot = (int64_t)table[key / block_size] * block_size + key % block_size;
                const int64_t off = (slot * num_kv_heads + kvh) * head_dim + d;
                kv = k_cache[off];
                vv = v_cache[off];
            }
            ks[i] = kv;
            vs[i] = vv;
        }
        __syncthreads();
        if (!active) continue;
        // S = Q K^T: K stored (key, d) row-major is K^T in column-major.
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> s_frag;
        wmma::fill_fragment(s_frag, 0.f);
        for (int d0 = 0; d0 < head_dim; d0 += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> a;
            wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> b;
            wmma::load_matrix_sync(a, qs + d0, head_dim);
            wmma::load_matrix_sync(b, ks + d0, head_dim);
            wmma::mma_sync(s_frag, a, b, s_frag);
        }
        wmma::store_matrix_sync(ss, s_frag, BK_TC_KEYS, wmma::mem_row_major);
        __syncwarp();
        if (lane < BK_TC_ROWS) {
            const int r = lane;
            float p[BK_TC_KEYS];
            float m_new = row_m[r];
            const int ctx = r < rows ? first_pos + r + 1 : 0;
            const int first = sliding_window > 0 ? max(0, ctx - sliding_window) : 0;
            for (int j = 0; j < BK_TC_KEYS; j++) {
                const int key = c + j;
                const bool valid = key < ctx && key >= first;
                p[j] = valid ? ss[r * BK_TC_KEYS + j] * scale : -CUDART_INF_F;
                m_new = fmaxf(m_new, p[j]);
            }
            float corr = 1.f, sum = 0.f;
            if (m_new != -CUDART_INF_F) {
                corr = expf(row_m[r] - m_new);  // exp(-inf) = 0 before the row's first valid key
                for (int j = 0; j < BK_TC_KEYS; j++) {
                    p[j] = p[j] == -CUDART_INF_F ? 0.f : expf(p[j] - m_new);
                    sum += p[j];
                }
                row_m[r] = m_new;
            } else {
                for (int j = 0; j < BK_TC_KEYS; j++) p[j] = 0.f;
            }
            row_l[r] = row_l[r] * corr + sum;
            row_corr[r] = corr;
            for (int j = 0; j < BK_TC_KEYS; j++) ps[r * BK_TC_KEYS + j] = __float2bfloat16(p[j]);
        }
        __syncwarp();
        for (int i = lane; i < BK_TC_ROWS * head_dim; i += 32) os[i] *= row_corr[i / head_dim];
        __syncwarp();
        // O += P V: V stored (key, d) row-major.
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> p_frag;
        wmma::load_matrix_sync(p_frag, ps, BK_TC_KEYS);
        for (int d0 = 0; d0 < head_dim; d0 += 16) {
            wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> v_frag;
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> o_frag;
            wmma::load_matrix_sync(v_frag, vs + d0, head_dim);
            wmma::load_matrix_sync(o_frag, os + d0, head_dim, wmma::mem_row_major);
            wmma::mma_sync(o_frag, p_frag, v_frag, o_frag);
            wmma::store_matrix_sync(os + d0, o_frag, head_dim, wmma::mem_row_major);
        }
        __syncwarp();
    }
    if (!active) return;
    for (int i = lane; i < rows * head_dim; i += 32) {
        const int r = i / head_dim, d = i % head_dim;
        out[(int64_t)(t0 + r) * num_heads * head_dim + (int64_t)h * head_dim + d] = __float2bfloat16(os[i] / row_l[r]);
    }
}
