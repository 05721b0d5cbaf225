#pragma once
#include "common.cuh"

// Paged decode attention with grouped-query heads and split-K over the context (flash-decoding): every
// (query, head, partition) block scores its slice of keys, softmaxes it locally and writes a partial output
// with its max and exp-sum; bk_paged_attention_reduce merges the partitions. Query q of the batch is token
// query_tokens[q]; it attends causally to positions [first, positions[t] + 1) of its sequence token_seq[t]
// (first > 0 only with a sliding window), found through block_tables.
//
// K and V are read in 16-byte vectors (8 bf16): each thread scores whole keys (no reduction per key), and for
// P V each thread owns 8 dimensions of one key at a time, so blockDim / (head_dim / 8) keys go side by side;
// their partial sums meet in shared memory and are added in a fixed order. head_dim must be a multiple of 8.
//
// part_out: [n_queries, num_heads, max_partitions, head_dim] f32 (normalized within the partition)
// part_max, part_sum: [n_queries, num_heads, max_partitions] f32
// q: [n_tokens, num_heads * head_dim] f32; k_cache, v_cache: [slots, num_kv_heads, head_dim] bf16
// block_tables: [n_seqs, max_blocks_per_seq] int (row-major, padded)
// grid (n_queries, num_heads, max_partitions), block 128 (4 warps),
// dynamic shared memory (head_dim + partition_size + 8 * 128) * 4 bytes.
#define BK_DECODE_THREADS 128

// The 8 floats of a 16-byte vector of bf16 (a bf16 is the top half of a float's bits).
__device__ __forceinline__ void bk_bf16x8(const bf16* p, float* out) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const unsigned int w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        out[2 * i] = __uint_as_float(w[i] << 16);
        out[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

extern "C" __global__ void bk_paged_attention_decode(float* part_out, float* part_max, float* part_sum,
                                                     const float* q, const bf16* k_cache, const bf16* v_cache,
                                                     const int* query_tokens, const int* token_seq,
                                                     const int* positions, const int* block_tables,
                                                     int max_blocks_per_seq, int n_queries, int num_heads,
                                                     int num_kv_heads, int head_dim, int block_size,
                                                     int partition_size, int sliding_window, float scale) {
    BK_DYNAMIC_SHARED(float, smem);
    __shared__ float scratch[32];
    const int qi = blockIdx.x, h = blockIdx.y, p = blockIdx.z, max_parts = gridDim.z;
    if (qi >= n_queries) return;
    const int t = query_tokens[qi];
    const int ctx = positions[t] + 1;
    const int first = sliding_window > 0 ? max(0, ctx - sliding_window) : 0;
    const int start = first + p * partition_size;
    const int end = min(ctx, start + partition_size);
    const int64_t idx = ((int64_t)qi * num_heads + h) * max_parts + p;
    if (start >= end) {
        // NOTE: an empty partition still writes neutral values: the reduce weighs it by exp(-inf) = 0.
        if (threadIdx.x == 0) {
            part_max[idx] = -CUDART_INF_F;
            part_sum[idx] = 0.f;
        }
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) part_out[idx * head_dim + d] = 0.f;
        return;
    }
    float* sq = smem;                              // (head_dim)
    float* scores = smem + head_dim;               // (partition_size)
    float* partial = scores + partition_size;      // (keys side by side, head_dim): P V per key slot
    const float* qh = q + (int64_t)t * num_heads * head_dim + (int64_t)h * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) sq[d] = qh[d];
    __syncthreads();
    const int kvh = h / (num_heads / num_kv_heads);
    const int* table = block_tables + (int64_t)token_seq[t] * max_blocks_per_seq;
    const int n = end - start;
    float m = -CUDART_INF_F;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const int j = start + i;
        const int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
        const bf16* kp = k_cache + (slot * num_kv_heads + kvh) * head_dim;
        float dot = 0.f;
        for (int d0 = 0; d0 < head_dim; d0 += 8) {
            float k8[8];
            bk_bf16x8(kp + d0, k8);
#pragma unroll
            for (int e = 0; e < 8; e++) dot += sq[d0 + e] * k8[e];
        }
        scores[i] = dot * scale;
        m = fmaxf(m, scores[i]);
    }
    m = bk_block_max(m, scratch);  // its barriers also publish the scores
    float sum = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float e = expf(scores[i] - m);
        scores[i] = e;
        sum += e;
    }
    sum = bk_block_sum(sum, scratch);  // its barrier also publishes the exponentials in scores
    const int groups = head_dim / 8;           // threads per key: each owns 8 dimensions
    const int side = blockDim.x / groups;      // keys side by side
    const int g = threadIdx.x % groups, slot_of = threadIdx.x / groups;
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    if (slot_of < side) {
        for (int i = slot_of; i < n; i += side) {
            const int j = start + i;
            const int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
            float v8[8];
            bk_bf16x8(v_cache + (slot * num_kv_heads + kvh) * head_dim + g * 8, v8);
#pragma unroll
            for (int e = 0; e < 8; e++) acc[e] += scores[i] * v8[e];
        }
#pragma unroll
        for (int e = 0; e < 8; e++) partial[slot_of * head_dim + g * 8 + e] = acc[e];
    }
    __syncthreads();
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float o = 0.f;
        for (int s = 0; s < side; s++) o += partial[s * head_dim + d];  // NOTE: fixed order, so runs agree
        part_out[idx * head_dim + d] = o / sum;
    }
    if (threadIdx.x == 0) {
        part_max[idx] = m;
        part_sum[idx] = sum;
    }
}

// Merges the partitions of bk_paged_attention_decode: weight_p = sum_p * exp(max_p - max), out = sum_p
// weight_p * part_out_p / sum_p weight_p, written as bf16 at the query token's row (the o_proj input).
// out: [n_tokens, num_heads * head_dim] bf16. grid (n_queries, num_heads), block 128.
extern "C" __global__ void bk_paged_attention_reduce(bf16* out, const float* part_out, const float* part_max,
                                                     const float* part_sum, const int* query_tokens,
                                                     int n_queries, int num_heads, int head_dim,
                                                     int max_partitions) {
    const int qi = blockIdx.x, h = blockIdx.y;
    if (qi >= n_queries) return;
    const int64_t base = ((int64_t)qi * num_heads + h) * max_partitions;
    float gmax = -CUDART_INF_F;
    for (int p = 0; p < max_partitions; p++) gmax = fmaxf(gmax, part_max[base + p]);
    float total = 0.f;
    for (int p = 0; p < max_partitions; p++) {
        total += part_max[base + p] == -CUDART_INF_F ? 0.f : part_sum[base + p] * expf(part_max[base + p] - gmax);
    }
    const int t = query_tokens[qi];
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc = 0.f;
        for (int p = 0; p < max_partitions; p++) {
            if (part_max[base + p] == -CUDART_INF_F) continue;
            const float w = part_sum[base + p] * expf(part_max[base + p] - gmax);
            acc += w * part_out[(base + p) * head_dim + d];
        }
        out[(int64_t)t * num_heads * head_dim + (int64_t)h * head_dim + d] = __float2bfloat16(acc / total);
    }
}
