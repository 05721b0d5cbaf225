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

// Asynchronous scheduling: decode tokens scheduled before their value was known take the id the previous step
// sampled, on the device, before the embedding gather reads ids. Pair i of feed is (token index, logit row of the
// previous step): ids[feed[2i]] = sampled[feed[2i + 1]]. A row with no finite logit (-1) feeds token 0: its
// request fails on the host and this step's output for it is discarded. grid (ceil(n_feed / 128)), block 128.
extern "C" __global__ void bk_feed_sampled_ids(int* ids, const int* sampled, const int* feed, int n_feed) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_feed) return;
    const int id = sampled[feed[2 * i + 1]];
    ids[feed[2 * i]] = id < 0 ? 0 : id;
}
