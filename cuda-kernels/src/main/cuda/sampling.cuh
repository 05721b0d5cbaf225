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

// Whether a logit survives truncation: its key is at or above threshold (top-k, top-p), and its weight
// exp((l - m) / T) is at least min_p (min-p is relative to the top token, whose weight is exactly 1).
__device__ __forceinline__ bool bk_kept(float l, uint32_t threshold, float m, float inv_t, float min_p) {
    return bk_order_key(l) >= threshold && (!(min_p > 0.f) || expf((l - m) * inv_t) >= min_p);
}

// Sampling of each request's row, as the host sampler does it (vLLM's order): NaN as -inf and +inf as the largest
// float; repetition penalty on every token of the prompt and output (transformers' rule), then frequency and
// presence on the output tokens (OpenAI's rule); temperature; top-k (every logit >= the k-th largest, ties kept);
// top-p over the top-k survivors (the smallest set of the largest whose probability reaches top_p); min-p; draw.
// temperature <= 0 means greedy: the lowest index of the largest penalised logit. top_k <= 0 or >= vocab and
// top_p >= 1 and min_p <= 0 disable theirs. The draw u in [0, 1) is Philox(key = seed[r], counter = step[r]),
// picking the first vocabulary index whose cumulative kept probability exceeds u (vocabulary order, fixed
// chunks): it depends on the request's seed and step only, never on its place in the batch.
//
// out[r]: the id, or -1 when the row has no finite logit. logits: [rows, vocab] f32, penalised in place;
// rows[r]: the logits row of request r. Penalties: request r's distinct prompt and output tokens are
// penalty_ids[penalty_start[r], penalty_start[r + 1]), each with its count in the output (0: prompt only).
// grid (n_rows), block 256.
extern "C" __global__ void bk_sample_rows(int* out, float* logits, const int* rows, const float* temperature,
                                          const int* top_k, const float* top_p, const float* min_p,
                                          const float* repetition, const float* frequency, const float* presence,
                                          const int* penalty_start, const int* penalty_ids,
                                          const int* penalty_counts, const unsigned long long* seeds,
                                          const unsigned long long* steps, int n_rows, int vocab) {
    __shared__ float scratch[32];
    __shared__ float chunk_sum[256];
    __shared__ int chosen;
    const int r = blockIdx.x;
    if (r >= n_rows) return;
    float* row = logits + (int64_t)rows[r] * vocab;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        const float v = row[i];
        if (v != v) row[i] = -CUDART_INF_F;
        else if (v == CUDART_INF_F) row[i] = 3.402823466e38f;
    }
    __syncthreads();
    const float rep = repetition[r], freq = frequency[r], pres = presence[r];
    // NOTE: the ids are distinct, so no two threads touch one logit.
    for (int e = penalty_start[r] + threadIdx.x; e < penalty_start[r + 1]; e += blockDim.x) {
        const int id = penalty_ids[e];
        if (id < 0 || id >= vocab) continue;
        float v = row[id];
        // NOTE: _rn intrinsics everywhere: nvcc would fuse v - freq * count into one FMA, rounding once where the
        // host sampler rounds twice, and greedy ids must match the host's exactly.
        if (rep != 1.f) v = v > 0.f ? __fdiv_rn(v, rep) : __fmul_rn(v, rep);
        const int count = penalty_counts[e];
        if (count > 0 && (freq != 0.f || pres != 0.f)) {
            v = __fsub_rn(v, __fmul_rn(freq, (float)count));  // NOTE: two subtractions, as the host sampler does
            v = __fsub_rn(v, pres);
        }
        row[id] = v;
    }
    __syncthreads();
    float m = -CUDART_INF_F;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, row[i]);
    m = bk_block_max(m, scratch);
    const float temp = temperature[r];
    if (threadIdx.x == 0) {
        int mi = 0;
        while (mi < vocab && row[mi] != m) mi++;
        chosen = m == -CUDART_INF_F ? -1 : mi;
    }
    __syncthreads();
    if (!(temp > 0.f) || chosen < 0) {
        if (threadIdx.x == 0) out[r] = chosen;
        return;
    }
    const float inv_t = 1.0f / temp;
    uint32_t threshold = 0;
    const int k = top_k[r];
    if (k > 0 && k < vocab) threshold = bk_select_threshold(row, vocab, (float)k, m, inv_t, true, scratch);
    const float p = top_p[r];
    if (p < 1.f) {
        const float kept_mass = bk_mass_at_least(row, vocab, threshold, m, inv_t, false, scratch);
        // NOTE: restricted to the top-k survivors: search among keys >= threshold only (the mass below is 0).
        uint32_t tp = bk_select_threshold(row, vocab, p * kept_mass, m, inv_t, false, scratch);
        threshold = max(threshold, tp);
    }
    const float mp = min_p[r];
    const unsigned long long seed = seeds[r], step = steps[r];
    const uint4 rnd = bk_philox((uint32_t)seed, (uint32_t)(seed >> 32),
                                make_uint4((uint32_t)step, (uint32_t)(step >> 32), 0u, 0u));
    const float u = (rnd.x >> 8) * (1.0f / 16777216.0f);
    const int chunk = (vocab + blockDim.x - 1) / blockDim.x;
    const int lo = threadIdx.x * chunk, hi = min(vocab, lo + chunk);
    float local = 0.f;
    for (int i = lo; i < hi; i++) {
        if (bk_kept(row[i], threshold, m, inv_t, mp)) local += expf((row[i] - m) * inv_t);
    }
    chunk_sum[threadIdx.x] = local;
    __syncthreads();
    float total = 0.f, before = 0.f;
    for (int j = 0; j < (int)blockDim.x; j++) {
        if (j == (int)threadIdx.x) before = total;
        total += chunk_sum[j];  // NOTE: one fixed order, so every thread sees the same total
    }
    const float target = u * total;
    if (before <= target && target < before + local) {
        float run = before;
        int pick = -1, last = -1;
        for (int i = lo; i < hi; i++) {
            if (!bk_kept(row[i], threshold, m, inv_t, mp)) continue;
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
