#pragma once
#include "common.cuh"

// Per-row sampling on the device. Deterministic: fixed reduction orders, and randomness from Philox4x32-10
// keyed by the row's seed with its offset (the step) as counter, so a request's draws do not depend on which
// other rows share the batch.

// Greedy: out[r] = the lowest index of the largest logit of row r. grid (n_rows), block 256.
extern "C" __global__ void bk_argmax_rows(int* out, const float* logits, int n_rows, int vocab) {
    __shared__ float best_v[256];
    __shared__ int best_i[256];
    const int r = blockIdx.x;
    if (r >= n_rows) return;
    const float* row = logits + (int64_t)r * vocab;
    float bv = -CUDART_INF_F;
    int bi = vocab;  // NOTE: vocab marks "none yet", so a row of -inf or NaN still yields index 0 below
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        const float v = row[i];
        if (v > bv || (bi == vocab && v == bv)) {
            bv = v;
            bi = i;
        }
    }
    best_v[threadIdx.x] = bv;
    best_i[threadIdx.x] = bi;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            const float ov = best_v[threadIdx.x + s];
            const int oi = best_i[threadIdx.x + s];
            if (ov > best_v[threadIdx.x] || (ov == best_v[threadIdx.x] && oi < best_i[threadIdx.x])) {
                best_v[threadIdx.x] = ov;
                best_i[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) out[r] = best_i[0] == vocab ? 0 : best_i[0];
}

// Philox4x32-10 (Salmon et al., SC'11): counter (c0..c3), key (k0, k1) -> 4 random words.
__device__ __forceinline__ uint4 bk_philox(uint32_t k0, uint32_t k1, uint4 c) {
#pragma unroll
    for (int round = 0; round < 10; round++) {
        const uint32_t hi0 = __umulhi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
        const uint32_t hi1 = __umulhi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
        c = make_uint4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return c;
}

// Order-preserving map of a float to an unsigned key (larger float, larger key).
__device__ __forceinline__ uint32_t bk_order_key(float f) {
    const uint32_t b = __float_as_uint(f);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// Count (or exp-mass) of row entries whose key is >= threshold, block-wide.
__device__ float bk_mass_at_least(const float* row, int vocab, uint32_t threshold, float m, float inv_t,
                                  bool count, float* scratch) {
    float acc = 0.f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        if (bk_order_key(row[i]) >= threshold) acc += count ? 1.f : expf((row[i] - m) * inv_t);
    }
    return bk_block_sum(acc, scratch);
}

// Largest key K with mass(key >= K) >= target, built bit by bit from the top (exact radix select).
__device__ uint32_t bk_select_threshold(const float* row, int vocab, float target, float m, float inv_t, bool count,
                                        float* scratch) {
    uint32_t prefix = 0;
    for (int bit = 31; bit >= 0; bit--) {
        const uint32_t cand = prefix | (1u << bit);
        if (bk_mass_at_least(row, vocab, cand, m, inv_t, count, scratch) >= target) prefix = cand;
    }
    return prefix;
}

// Temperature / top-k / top-p sampling of each row. temperature <= 0 means greedy (as bk_argmax_rows);
// top_k <= 0 or >= vocab disables top-k; top_p >= 1 disables top-p. Top-k keeps every logit >= the k-th
// largest (ties at the boundary are kept); top-p then keeps the smallest set of the largest survivors whose
// probability reaches top_p. The draw u in [0, 1) is Philox(key = seed[r], counter = offset[r]) and picks the
// first vocabulary index whose cumulative kept probability exceeds u (vocabulary order, fixed chunks). The
// row's place in the batch is not part of the counter: a request draws the same wherever it sits.
// grid (n_rows), block 256.
extern "C" __global__ void bk_sample_rows(int* out, const float* logits, const float* temperature,
                                          const int* top_k, const float* top_p,
                                          const unsigned long long* seeds, const unsigned long long* offsets,
                                          int n_rows, int vocab) {
    __shared__ float scratch[32];
    __shared__ float chunk_sum[256];
    __shared__ int chosen;
    const int r = blockIdx.x;
    if (r >= n_rows) return;
    const float* row = logits + (int64_t)r * vocab;
    float m = -CUDART_INF_F;
    int mi = 0;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, row[i]);
    m = bk_block_max(m, scratch);
    const float temp = temperature[r];
    if (threadIdx.x == 0) {
        for (mi = 0; mi < vocab && row[mi] != m; mi++) {
        }
        chosen = mi < vocab ? mi : 0;
    }
    __syncthreads();
    if (!(temp > 0.f)) {
        if (threadIdx.x == 0) out[r] = chosen;
        return;
    }
    const float inv_t = 1.0f / temp;
    uint32_t threshold = 0;
    const int k = top_k[r];
    if (k > 0 && k < vocab) threshold = bk_select_threshold(row, vocab, (float)k, m, inv_t, true, scratch);
    const float p = top_p[r];
    const float kept_mass = bk_mass_at_least(row, vocab, threshold, m, inv_t, false, scratch);
    if (p < 1.f) {
        // NOTE: restricted to the top-k survivors: search among keys >= threshold only (the mass below is 0).
        uint32_t tp = bk_select_threshold(row, vocab, p * kept_mass, m, inv_t, false, scratch);
        threshold = max(threshold, tp);
    }
    const float total = bk_mass_at_least(row, vocab, threshold, m, inv_t, false, scratch);
    const unsigned long long seed = seeds[r], off = offsets[r];
    const uint4 rnd = bk_philox((uint32_t)seed, (uint32_t)(seed >> 32),
                                make_uint4((uint32_t)off, (uint32_t)(off >> 32), 0u, 0u));
    const float u = (rnd.x >> 8) * (1.0f / 16777216.0f);
    const float target = u * total;
    const int chunk = (vocab + blockDim.x - 1) / blockDim.x;
    const int lo = threadIdx.x * chunk, hi = min(vocab, lo + chunk);
    float local = 0.f;
    for (int i = lo; i < hi; i++) {
        if (bk_order_key(row[i]) >= threshold) local += expf((row[i] - m) * inv_t);
    }
    chunk_sum[threadIdx.x] = local;
    __syncthreads();
    float before = 0.f;
    for (int j = 0; j < (int)threadIdx.x; j++) before += chunk_sum[j];
    if (before <= target && target < before + local) {
        float run = before;
        int pick = -1, last = -1;
        for (int i = lo; i < hi; i++) {
            if (bk_order_key(row[i]) < threshold) continue;
            last = i;
            run += expf((row[i] - m) * inv_t);
            if (run > target) {
                pick = i;
                break;
            }
        }
        chosen = pick >= 0 ? pick : last;
    }
    __syncthreads();
    // NOTE: if rounding put the target past every chunk, chosen keeps the argmax set above.
    if (threadIdx.x == 0) out[r] = chosen;
}
