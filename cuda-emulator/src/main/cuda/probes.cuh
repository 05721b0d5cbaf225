// Kernels that exist to prove the emulator's checks, each with the defect or behaviour a test asserts on.
// Plain CUDA: nvcc compiles them too, so the same probes could run on a GPU under compute-sanitizer.
#pragma once
#include "common.cuh"

// Every thread i < n + 1 writes out[i]: thread n writes one float past a buffer of n.
extern "C" __global__ void bkemu_probe_write_past(float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[i] = (float)i;
}

// out[i] = in[i] for i < n.
extern "C" __global__ void bkemu_probe_copy(float* out, const float* in, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = in[i];
}

// Half the block returns before a barrier the other half waits at.
extern "C" __global__ void bkemu_probe_divergent_barrier(int* out) {
    if (threadIdx.x < blockDim.x / 2) return;
    __syncthreads();
    out[threadIdx.x] = 1;
}

// Odd and even threads wait at two different barriers.
extern "C" __global__ void bkemu_probe_two_barriers(int* out) {
    if (threadIdx.x & 1) {
        __syncthreads();
        out[threadIdx.x] = 1;
    } else {
        __syncthreads();
        out[threadIdx.x] = 2;
    }
}

// Each thread publishes its index in shared memory and reads its neighbour's; with_barrier = 0 drops the
// barrier between the two, a race whose outcome depends on thread order.
extern "C" __global__ void bkemu_probe_shared_neighbour(int* out, int with_barrier) {
    __shared__ int slots[1024];
    const int t = threadIdx.x;
    slots[t] = t;
    if (with_barrier) __syncthreads();
    out[blockIdx.x * blockDim.x + t] = slots[(t + 1) % blockDim.x];
}

// Warp collectives: out[t * 4 + 0] = warp sum of lane^2 (xor butterfly), [1] = lane 7's value broadcast,
// [2] = value from lane - 1 (up), [3] = value from lane + 2 (down).
extern "C" __global__ void bkemu_probe_shuffles(int* out) {
    const int lane = threadIdx.x & 31;
    int v = lane * lane;
    int sum = v;
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    out[threadIdx.x * 4 + 0] = sum;
    out[threadIdx.x * 4 + 1] = __shfl_sync(0xffffffffu, v, 7);
    out[threadIdx.x * 4 + 2] = __shfl_up_sync(0xffffffffu, v, 1);
    out[threadIdx.x * 4 + 3] = __shfl_down_sync(0xffffffffu, v, 2);
}

// Lane `missing` returns before a full-mask shuffle the others wait in.
extern "C" __global__ void bkemu_probe_shuffle_missing_lane(float* out, int missing) {
    const int lane = threadIdx.x & 31;
    if (lane == missing) return;
    out[threadIdx.x] = bk_warp_sum((float)lane);
}

// Block sum through bk_block_sum (shuffles, shared scratch and two barriers): out[b] = sum of in[b * n + i].
extern "C" __global__ void bkemu_probe_block_sum(float* out, const float* in, int n) {
    __shared__ float scratch[32];
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += in[(int64_t)blockIdx.x * n + i];
    s = bk_block_sum(s, scratch);
    if (threadIdx.x == 0) out[blockIdx.x] = s;
}

// Fills `count` floats of dynamic shared memory, then sums them: out[0] = count * (count - 1) / 2.
extern "C" __global__ void bkemu_probe_dynamic_shared(float* out, int count) {
    BK_DYNAMIC_SHARED(float, buf);
    for (int i = threadIdx.x; i < count; i += blockDim.x) buf[i] = (float)i;
    __syncthreads();
    if (threadIdx.x == 0) {
        float s = 0.f;
        for (int i = 0; i < count; i++) s += buf[i];
        out[0] = s;
    }
}

// Records its arguments as the kernel saw them: proves the parameter layout (an int after a pointer, a
// long long aligned to 8, a float after it).
extern "C" __global__ void bkemu_probe_arguments(long long* out, int a, long long b, float c, int d) {
    out[0] = a;
    out[1] = b;
    out[2] = (long long)(c * 1000.0f);
    out[3] = d;
}

// A kernel with no parameters (launches with a null parameter array).
extern "C" __global__ void bkemu_probe_nothing() {
}

// d (16x16 f32, row-major) = a (16x16 bf16, row-major) b (16x16 bf16, column-major) on the tensor-core API.
// Lane `skip_lane` (when >= 0) returns first, leaving mma_sync a lane short; `offset` (in elements) shifts a's
// pointer, which breaks wmma's 32-byte alignment unless it is a multiple of 16.
extern "C" __global__ void bkemu_probe_wmma(float* d, const bf16* a, const bf16* b, int skip_lane, int offset) {
    using namespace nvcuda;
    if ((int)(threadIdx.x & 31) == skip_lane) return;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
    wmma::fill_fragment(fc, 1.0f);
    wmma::load_matrix_sync(fa, a + offset, 16);
    wmma::load_matrix_sync(fb, b, 16);
    wmma::mma_sync(fc, fa, fb, fc);
    wmma::store_matrix_sync(d, fc, 16, wmma::mem_row_major);
}
