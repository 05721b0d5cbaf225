#pragma once
#include "common.cuh"

// vLLM's fused_add_rms_norm: x += residual (skipped when residual is null), then
// out = bf16(weight * (x * 1/sqrt(mean(x^2) + eps))) as Hugging Face computes RMSNorm in fp32.
// grid (n_tokens), block 256. x: [n_tokens, hidden] f32 (updated in place); out: [n_tokens, hidden] bf16.
extern "C" __global__ void bk_fused_add_rmsnorm(bf16* out, float* x, const float* residual, const float* weight,
                                                int n_tokens, int hidden, float eps) {
    __shared__ float scratch[32];
    const int t = blockIdx.x;
    if (t >= n_tokens) return;
    float* xr = x + (int64_t)t * hidden;
    float ss = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float v = xr[i];
        if (residual != nullptr) {
            v += residual[(int64_t)t * hidden + i];
            xr[i] = v;
        }
        ss += v * v;
    }
    ss = bk_block_sum(ss, scratch);
    const float inv = 1.0f / sqrtf(ss / hidden + eps);
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        out[(int64_t)t * hidden + i] = __float2bfloat16(weight[i] * (xr[i] * inv));
    }
}

// The final norm of only the rows that need logits: out[r] = rmsnorm(x[rows[r]]) as bf16.
// grid (n_rows), block 256. out: [n_rows, hidden] bf16.
extern "C" __global__ void bk_rmsnorm_rows(bf16* out, const float* x, const int* rows, const float* weight,
                                           int n_rows, int hidden, float eps) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    if (r >= n_rows) return;
    const float* xr = x + (int64_t)rows[r] * hidden;
    float ss = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) ss += xr[i] * xr[i];
    ss = bk_block_sum(ss, scratch);
    const float inv = 1.0f / sqrtf(ss / hidden + eps);
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        out[(int64_t)r * hidden + i] = __float2bfloat16(weight[i] * (xr[i] * inv));
    }
}
