// The CUDA C++ that Bulkhead's kernels use, for g++: the emulator compiles the same .cuh sources nvcc compiles,
// against this header instead of cuda_bf16.h / cuda_fp16.h / math_constants.h (common.cuh includes it when
// BK_EMULATOR is defined). Every intrinsic that synchronizes threads calls into the emulator's executor;
// conversions are bit-exact with the CUDA headers (round to nearest even, canonical NaN); math functions are
// glibc's, not CUDA's (a listed deviation: results may differ in the last ulp, and nothing is contracted to FMA).
#pragma once
#include <math.h>
#include <stdint.h>

#include <type_traits>

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

// Round-to-nearest arithmetic that the compiler may not fuse into an FMA (nvcc contracts a * b - c otherwise).
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }

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

// nvcuda::wmma, the tensor-core fragment API (bf16 and half inputs, float accumulators). A fragment's elements
// are spread over the warp's 32 lanes; which lane holds which element is unspecified in CUDA, and here lane l
// holds elements [l * num_elements, (l + 1) * num_elements) of the matrix in row-major order. Loads, stores and
// fills are per lane; mma_sync is warp-wide (every lane must reach it, as on a GPU): the last lane to arrive
// computes D = A B + C from every lane's share, in fp32 with the k terms summed in order (a tensor core's
// order and internal rounding are not specified; that is a listed difference). Pointers must be 32-byte
// aligned, as CUDA requires.
extern "C" void bkemu_warp_call(unsigned int mask, void* data, void (*call)(void* const* data, unsigned int lanes),
                                const char* file, int line);
extern "C" void bkemu_misaligned(const void* p, const char* what);

namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K>
struct shape_of;
template <int M, int N, int K>
struct shape_of<matrix_a, M, N, K> {
    static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct shape_of<matrix_b, M, N, K> {
    static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct shape_of<accumulator, M, N, K> {
    static constexpr int rows = M, cols = N;
};

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static constexpr int rows = shape_of<Use, M, N, K>::rows;
    static constexpr int cols = shape_of<Use, M, N, K>::cols;
    static constexpr int num_elements = rows * cols / 32;
    T x[num_elements];
};

static inline float bkemu_to_float(float v) { return v; }
static inline float bkemu_to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
static inline float bkemu_to_float(__half v) { return __half2float(v); }

static inline unsigned bkemu_lane() {
    const bkemu_dim3 t = threadIdx;
    return (t.x + t.y * blockDim.x + t.z * blockDim.x * blockDim.y) & 31u;
}

static inline void bkemu_check_aligned(const void* p, const char* what) {
    if ((reinterpret_cast<uintptr_t>(p) & 31u) != 0) bkemu_misaligned(p, what);
}

template <typename Use, int M, int N, int K, typename T, typename Layout>
static inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const T* p, unsigned ldm) {
    using F = fragment<Use, M, N, K, T, Layout>;
    bkemu_check_aligned(p, "wmma::load_matrix_sync");
    const unsigned lane = bkemu_lane();
    for (int i = 0; i < F::num_elements; i++) {
        const int e = static_cast<int>(lane) * F::num_elements + i;
        const int r = e / F::cols, c = e % F::cols;
        f.x[i] = std::is_same_v<Layout, col_major> ? p[static_cast<size_t>(c) * ldm + r] : p[static_cast<size_t>(r) * ldm + c];
    }
}

template <int M, int N, int K>
static inline void load_matrix_sync(fragment<accumulator, M, N, K, float>& f, const float* p, unsigned ldm,
                                    layout_t layout) {
    using F = fragment<accumulator, M, N, K, float>;
    bkemu_check_aligned(p, "wmma::load_matrix_sync");
    const unsigned lane = bkemu_lane();
    for (int i = 0; i < F::num_elements; i++) {
        const int e = static_cast<int>(lane) * F::num_elements + i;
        const int r = e / F::cols, c = e % F::cols;
        f.x[i] = layout == mem_col_major ? p[static_cast<size_t>(c) * ldm + r] : p[static_cast<size_t>(r) * ldm + c];
    }
}

template <int M, int N, int K>
static inline void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm,
                                     layout_t layout) {
    using F = fragment<accumulator, M, N, K, float>;
    bkemu_check_aligned(p, "wmma::store_matrix_sync");
    const unsigned lane = bkemu_lane();
    for (int i = 0; i < F::num_elements; i++) {
        const int e = static_cast<int>(lane) * F::num_elements + i;
        const int r = e / F::cols, c = e % F::cols;
        (layout == mem_col_major ? p[static_cast<size_t>(c) * ldm + r] : p[static_cast<size_t>(r) * ldm + c]) = f.x[i];
    }
}

template <typename Use, int M, int N, int K, typename T, typename Layout, typename V>
static inline void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& v) {
    for (int i = 0; i < fragment<Use, M, N, K, T, Layout>::num_elements; i++) f.x[i] = v;
}

template <int M, int N, int K, typename TA, typename LA, typename TB, typename LB>
struct bkemu_mma {
    using A = fragment<matrix_a, M, N, K, TA, LA>;
    using B = fragment<matrix_b, M, N, K, TB, LB>;
    using C = fragment<accumulator, M, N, K, float>;
    struct Operands {
        const A* a;
        const B* b;
        const C* c;
        C* d;
    };
    // NOTE: runs on the last lane's fiber and reads every lane's fragments on their stacks: not instrumented.
    __attribute__((no_sanitize_address)) static void run(void* const* data, unsigned int lanes) {
        (void)lanes;
        float a[M * K], b[K * N], d[M * N];
        for (int l = 0; l < 32; l++) {
            const Operands* o = static_cast<const Operands*>(data[l]);
            for (int i = 0; i < A::num_elements; i++) a[l * A::num_elements + i] = bkemu_to_float(o->a->x[i]);
            for (int i = 0; i < B::num_elements; i++) b[l * B::num_elements + i] = bkemu_to_float(o->b->x[i]);
            for (int i = 0; i < C::num_elements; i++) d[l * C::num_elements + i] = o->c->x[i];
        }
        for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
                float acc = 0.f;
                for (int k = 0; k < K; k++) acc += a[m * K + k] * b[k * N + n];
                d[m * N + n] += acc;
            }
        }
        for (int l = 0; l < 32; l++) {
            const Operands* o = static_cast<const Operands*>(data[l]);
            for (int i = 0; i < C::num_elements; i++) o->d->x[i] = d[l * C::num_elements + i];
        }
    }
};

template <int M, int N, int K, typename TA, typename LA, typename TB, typename LB>
static inline void mma_sync_at(const char* file, int line, fragment<accumulator, M, N, K, float>& d,
                               const fragment<matrix_a, M, N, K, TA, LA>& a,
                               const fragment<matrix_b, M, N, K, TB, LB>& b,
                               const fragment<accumulator, M, N, K, float>& c) {
    using Mma = bkemu_mma<M, N, K, TA, LA, TB, LB>;
    typename Mma::Operands ops{&a, &b, &c, &d};
    bkemu_warp_call(0xffffffffu, &ops, &Mma::run, file, line);
}
}  // namespace wmma
}  // namespace nvcuda
#define mma_sync(...) mma_sync_at(__FILE__, __LINE__, __VA_ARGS__)
