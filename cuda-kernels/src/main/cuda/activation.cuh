#pragma once
#include "common.cuh"

// SwiGLU on the fused gate/up projection: out[t, i] = silu(g) * u with g = gate_up[t, i],
// u = gate_up[t, ffn + i], silu(g) = g / (1 + exp(-g)). gate_up: [n_tokens, 2 * ffn] f32; out: [n_tokens, ffn] bf16.
// grid (ceil(ffn / blockDim), n_tokens).
extern "C" __global__ void bk_silu_mul(bf16* out, const float* gate_up, int n_tokens, int ffn) {
    const int t = blockIdx.y;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n_tokens || i >= ffn) return;
    const float g = gate_up[(int64_t)t * 2 * ffn + i];
    const float u = gate_up[(int64_t)t * 2 * ffn + ffn + i];
    out[(int64_t)t * ffn + i] = __float2bfloat16(g / (1.0f + expf(-g)) * u);
}
