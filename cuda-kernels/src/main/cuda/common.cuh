// Shared helpers of the Bulkhead kernels. Every kernel is extern "C" so its symbol in the fatbin is its
// plain name, which the Java KernelIndex lists with its parameter layout.
#pragma once
#ifdef BK_EMULATOR
// The CPU emulator (cuda-emulator/) compiles these same sources with g++ against its own CUDA header.
#include "cuda_emu.h"
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>
#include <math_constants.h>
#include <mma.h>
// A kernel's dynamic shared memory (the emulator gives it its own definition).
// NOTE: 32-byte aligned, as wmma's loads and stores require of their pointers.
#define BK_DYNAMIC_SHARED(type, name) extern __shared__ __align__(32) type name[]
#endif

typedef __nv_bfloat16 bf16;

__device__ __forceinline__ float bk_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float bk_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum; every thread gets the result. scratch: 32 floats of shared memory. Ends with a barrier so
// scratch can be reused by the next call.
__device__ __forceinline__ float bk_block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = bk_warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float r = 0.f;
    for (int w = 0; w < warps; w++) r += scratch[w];  // NOTE: fixed order, so every thread and run agree.
    __syncthreads();
    return r;
}

__device__ __forceinline__ float bk_block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = bk_warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float r = -CUDART_INF_F;
    for (int w = 0; w < warps; w++) r = fmaxf(r, scratch[w]);
    __syncthreads();
    return r;
}
