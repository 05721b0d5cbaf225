#pragma once
#include "common.cuh"

// out[t, :] = float(table[ids[t], :]). grid (n_tokens), any block size.
// out: [n_tokens, hidden] f32 residual stream; table: [vocab, hidden] bf16.
extern "C" __global__ void bk_embedding_gather(float* out, const bf16* table, const int* ids, int n_tokens,
                                               int hidden) {
    const int t = blockIdx.x;
    if (t >= n_tokens) return;
    const bf16* row = table + (int64_t)ids[t] * hidden;
    float* dst = out + (int64_t)t * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = __bfloat162float(row[i]);
}
