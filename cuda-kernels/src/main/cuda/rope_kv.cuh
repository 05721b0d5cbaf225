#pragma once
#include "common.cuh"

// One head of one token of the fused QKV projection, made ready for attention: add the bias (Qwen2), apply
// the per-head RMSNorm (Qwen3), rotate by RoPE at the token's position, then write q to q_out and k, v into
// the paged cache at the token's slot. Llama 3 / linear scaling is already in inv_freq (precomputed on the
// host exactly as the CPU backend does), so the kernel only computes angle = pos * inv_freq[i] in fp32.
//
// qkv:      [n_tokens, (num_heads + 2 * num_kv_heads) * head_dim] f32, q heads then k heads then v heads
// bias:     [(num_heads + 2 * num_kv_heads) * head_dim] f32 or null
// q_norm:   [head_dim] f32 or null (k_norm likewise; both or neither)
// inv_freq: [rot_dim / 2] f32
// q_out:    [n_tokens, num_heads * head_dim] f32
// k_cache, v_cache: [num_blocks * block_size (slots), num_kv_heads, head_dim] bf16 of one layer
// slot_mapping: [n_tokens] slot of each token; negative means "do not write" (padding)
// neox: 1 pairs dimension i with i + rot_dim/2 (rotate_half), 0 pairs 2i with 2i+1 (interleaved)
// grid (n_tokens, num_heads + num_kv_heads), block 128, dynamic shared memory 0 (head_dim <= 512).
extern "C" __global__ void bk_rope_qkv_write(float* q_out, bf16* k_cache, bf16* v_cache, const float* qkv,
                                             const float* bias, const float* q_norm, const float* k_norm,
                                             const float* inv_freq, const int* positions, const int* slot_mapping,
                                             int n_tokens, int num_heads, int num_kv_heads, int head_dim,
                                             int rot_dim, int neox, float eps) {
    __shared__ float head[512];
    __shared__ float scratch[32];
    const int t = blockIdx.x;
    const int h = blockIdx.y;
    if (t >= n_tokens) return;
    const bool is_q = h < num_heads;
    const int width = (num_heads + 2 * num_kv_heads) * head_dim;
    const int col = h * head_dim;  // k heads follow the q heads in qkv, so h indexes both
    const float* src = qkv + (int64_t)t * width + col;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        head[d] = src[d] + (bias != nullptr ? bias[col + d] : 0.f);
    }
    __syncthreads();
    const float* norm = is_q ? q_norm : k_norm;
    if (norm != nullptr) {
        float ss = 0.f;
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) ss += head[d] * head[d];
        ss = bk_block_sum(ss, scratch);
        const float inv = 1.0f / sqrtf(ss / head_dim + eps);
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) head[d] = norm[d] * (head[d] * inv);
        __syncthreads();
    }
    const float pos = (float)positions[t];
    const int half = rot_dim / 2;
    float result[4];  // NOTE: each thread owns at most 4 dims (head_dim <= 512, block 128), written after a barrier.
    int owned = 0;
    for (int d = threadIdx.x; d < head_dim && owned < 4; d += blockDim.x, owned++) {
        float v = head[d];
        if (d < rot_dim) {
            int i, partner;
            bool first;
            if (neox) {
                first = d < half;
                i = first ? d : d - half;
                partner = first ? d + half : d - half;
            } else {
                first = (d & 1) == 0;
                i = d >> 1;
                partner = first ? d + 1 : d - 1;
            }
            const float angle = pos * inv_freq[i];
            const float c = cosf(angle), s = sinf(angle);
            const float other = head[partner];
            v = first ? v * c - other * s : v * c + other * s;
        }
        result[owned] = v;
    }
    owned = 0;
    if (is_q) {
        float* dst = q_out + (int64_t)t * num_heads * head_dim + col;
        for (int d = threadIdx.x; d < head_dim && owned < 4; d += blockDim.x, owned++) dst[d] = result[owned];
        return;
    }
    const int slot = slot_mapping[t];
    if (slot < 0) return;
    const int kvh = h - num_heads;
    const int64_t dst = ((int64_t)slot * num_kv_heads + kvh) * head_dim;
    for (int d = threadIdx.x; d < head_dim && owned < 4; d += blockDim.x, owned++) {
        k_cache[dst + d] = __float2bfloat16(result[owned]);
    }
    const int vcol = (num_heads + num_kv_heads + kvh) * head_dim;
    const float* vsrc = qkv + (int64_t)t * width + vcol;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        v_cache[dst + d] = __float2bfloat16(vsrc[d] + (bias != nullptr ? bias[vcol + d] : 0.f));
    }
}
