// The CUDA C++ that Bulkhead's kernels use, for g++: the emulator compiles the same .cuh sources nvcc compiles,
// against this header instead of cuda_bf16.h / cuda_fp16.h / math_constants.h (common.cuh includes it when
// BK_EMULATOR is defined). Every intrinsic that synchronizes threads calls into the emulator's executor;
// conversions are bit-exact with the CUDA headers (round to nearest even, canonical NaN); math functions are
// glibc's, not CUDA's (a listed deviation: results may differ in the last ulp, and nothing is contracted to FMA).
#pragma once
#include <math.h>
#include <stdint.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
// NOTE: static shared memory of every kernel lives in one named section; the executor poisons it before each
// block and knows its bounds (__start_/__stop_bkemu_shared). Only one block runs at a time, on one thread.
#define __shared__ __attribute__((section("bkemu_shared"), aligned(16))) static

struct bkemu_dim3 {
    unsigned int x, y, z;
};
typedef bkemu_dim3 uint3;
typedef bkemu_dim3 dim3;
struct uint4 {
    unsigned int x, y, z, w;
};
static inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) {
    return uint4{x, y, z, w};
}

// The running thread's coordinates, kept by the executor (see emu.h, struct bkemu_kernel_state).
struct bkemu_kernel_view {
    const bkemu_dim3* tid;
    bkemu_dim3 bid;
    bkemu_dim3 bdim;
    bkemu_dim3 gdim;
    void* dynamic_shared;
};
extern "C" bkemu_kernel_view bkemu_view;
#define threadIdx (*bkemu_view.tid)
#define blockIdx (bkemu_view.bid)
#define blockDim (bkemu_view.bdim)
#define gridDim (bkemu_view.gdim)
#define warpSize 32

// extern __shared__ T name[] on nvcc: the launch's dynamic shared memory.
#define BK_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(bkemu_view.dynamic_shared)

extern "C" void bkemu_syncthreads(const char* file, int line);
extern "C" void bkemu_syncwarp(unsigned int mask, const char* file, int line);
extern "C" unsigned long long bkemu_shfl(unsigned int mask, unsigned long long bits, int mode, int arg, int width,
                                         const char* file, int line);
enum { BKEMU_SHFL_IDX = 0, BKEMU_SHFL_XOR = 1, BKEMU_SHFL_UP = 2, BKEMU_SHFL_DOWN = 3 };

#define __syncthreads() bkemu_syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) bkemu_syncwarp(BKEMU_FULL_MASK_OR(__VA_ARGS__), __FILE__, __LINE__)
#define BKEMU_FULL_MASK_OR(...) (0xffffffffu __VA_OPT__(& 0u) __VA_OPT__(| (__VA_ARGS__)))

template <typename T>
static inline T bkemu_shfl_typed(const char* file, int line, int mode, unsigned int mask, T v, int arg,
                                 int width = 32) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "shuffles move 32- or 64-bit values");
    unsigned long long bits;
    if constexpr (sizeof(T) == 4) {
        bits = __builtin_bit_cast(unsigned int, v);
    } else {
        bits = __builtin_bit_cast(unsigned long long, v);
    }
    bits = bkemu_shfl(mask, bits, mode, arg, width, file, line);
    if constexpr (sizeof(T) == 4) {
        return __builtin_bit_cast(T, static_cast<unsigned int>(bits));
    } else {
        return __builtin_bit_cast(T, bits);
    }
}
#define __shfl_sync(mask, ...) bkemu_shfl_typed(__FILE__, __LINE__, BKEMU_SHFL_IDX, mask, __VA_ARGS__)
#define __shfl_xor_sync(mask, ...) bkemu_shfl_typed(__FILE__, __LINE__, BKEMU_SHFL_XOR, mask, __VA_ARGS__)
#define __shfl_up_sync(mask, ...) bkemu_shfl_typed(__FILE__, __LINE__, BKEMU_SHFL_UP, mask, __VA_ARGS__)
#define __shfl_down_sync(mask, ...) bkemu_shfl_typed(__FILE__, __LINE__, BKEMU_SHFL_DOWN, mask, __VA_ARGS__)

// Integer and float min/max as CUDA's device overloads provide them.
static inline int max(int a, int b) { return a > b ? a : b; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
static inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
static inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline float min(float a, float b) { return fminf(a, b); }

static inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return static_cast<unsigned int>((static_cast<unsigned long long>(a) * b) >> 32);
}
static inline unsigned int __float_as_uint(float f) { return __builtin_bit_cast(unsigned int, f); }
static inline float __uint_as_float(unsigned int u) { return __builtin_bit_cast(float, u); }
static inline int __float_as_int(float f) { return __builtin_bit_cast(int, f); }
static inline float __int_as_float(int i) { return __builtin_bit_cast(float, i); }

#define CUDART_INF_F __builtin_huge_valf()
#define CUDART_NAN_F __builtin_nanf("")

// bf16 and half: storage types plus the conversions the kernels use, bit-identical to cuda_bf16.hpp and
// cuda_fp16.hpp (round to nearest even; NaN becomes the canonical 0x7fff).
struct __nv_bfloat16 {
    unsigned short __x;
};
struct __half {
    unsigned short __x;
};

static inline __nv_bfloat16 __float2bfloat16(float f) {
    const unsigned int x = __builtin_bit_cast(unsigned int, f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return __nv_bfloat16{0x7fffu};
    }
    unsigned int r = x >> 16;
    const unsigned int remainder = x << 16;
    if (remainder > 0x80000000u || (remainder == 0x80000000u && (r & 1u) != 0u)) {
        r++;
    }
    return __nv_bfloat16{static_cast<unsigned short>(r)};
}
static inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __float2bfloat16(f); }
static inline float __bfloat162float(__nv_bfloat16 b) {
    return __builtin_bit_cast(float, static_cast<unsigned int>(b.__x) << 16);
}

static inline __half __float2half_rn(float f) {
    const unsigned int x = __builtin_bit_cast(unsigned int, f);
    unsigned int u = x & 0x7fffffffu;
    const unsigned int sign = (x >> 16) & 0x8000u;
    unsigned int result, remainder;
    if (u >= 0x7f800000u) {  // NaN, +-Inf
        remainder = 0u;
        result = u == 0x7f800000u ? (sign | 0x7c00u) : 0x7fffu;
    } else if (u > 0x477fefffu) {  // overflows to Inf after rounding
        remainder = 0x80000000u;
        result = sign | 0x7bffu;
    } else if (u >= 0x38800000u) {  // normal
        remainder = u << 19;
        u -= 0x38000000u;
        result = sign | (u >> 13);
    } else if (u < 0x33000001u) {  // rounds to +-0
        remainder = u;
        result = sign;
    } else {  // subnormal
        const unsigned int exponent = u >> 23;
        const unsigned int shift = 0x7eu - exponent;
        unsigned int mantissa = (u & 0x7fffffu) | 0x800000u;
        remainder = mantissa << (32u - shift);
        result = (sign | (mantissa >> shift)) & 0xffffu;
    }
    if (remainder > 0x80000000u || (remainder == 0x80000000u && (result & 1u) != 0u)) {
        result++;
    }
    return __half{static_cast<unsigned short>(result)};
}
static inline __half __float2half(float f) { return __float2half_rn(f); }
static inline float __half2float(__half h) {
    const unsigned int sign = (h.__x >> 15) & 1u;
    unsigned int exponent = (h.__x >> 10) & 0x1fu;
    unsigned int mantissa = (h.__x & 0x3ffu) << 13;
    if (exponent == 0x1fu) {  // Inf or NaN
        if (mantissa != 0u) {
            return __builtin_bit_cast(float, 0x7fffffffu);  // NOTE: cuda_fp16.hpp's host path returns this NaN
        }
        exponent = 0xffu;
    } else if (exponent == 0u) {
        if (mantissa != 0u) {  // subnormal: normalize
            exponent = 0x71u;
            unsigned int msb;
            do {
                msb = mantissa & 0x400000u;
                mantissa <<= 1;
                --exponent;
            } while (msb == 0u);
            mantissa &= 0x7fffffu;
        }
    } else {
        exponent += 0x70u;
    }
    return __builtin_bit_cast(float, (sign << 31) | (exponent << 23) | mantissa);
}
