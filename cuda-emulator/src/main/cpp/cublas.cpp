// The cuBLAS functions Bulkhead binds: handles bound to a stream, and cublasGemmEx /
// cublasGemmStridedBatchedEx in cuBLAS's column-major convention with its argument checks. A GEMM is stream
// work like a kernel: queued (or captured) when called, with alpha and beta read at the call (host pointer
// mode), run later on the device thread with fp32 accumulation. Inputs are converted to fp32 exactly, so the
// only difference from cuBLAS is the summation order, which cuBLAS does not define either.
#include <string.h>

#include <vector>

#include "driver.h"

using namespace bkemu;

namespace {

enum Status : int {
    STATUS_SUCCESS = 0,
    STATUS_NOT_INITIALIZED = 1,
    STATUS_INVALID_VALUE = 7,
    STATUS_EXECUTION_FAILED = 13,
    STATUS_NOT_SUPPORTED = 15,
};

enum DataType : int { R_32F = 0, R_16F = 2, R_16BF = 14 };

struct Handle {
    Context* ctx;
    void* stream;  // as the caller gave it; resolved in ctx when a GEMM is queued
    int math_mode;
};

size_t type_size(int t) { return t == R_32F ? 4 : 2; }

bool compute_ok(int c) {
    // CUBLAS_COMPUTE_32F, _32F_PEDANTIC, _32F_FAST_16F, _32F_FAST_16BF, _32F_FAST_TF32
    return c == 68 || c == 69 || c == 74 || c == 75 || c == 77;
}

bool types_ok(int a, int b, int c) {
    if (a != b) return false;
    if (a == R_32F) return c == R_32F;
    return (a == R_16BF || a == R_16F) && (c == a || c == R_32F);
}

float load(const void* p, int type, size_t i) {
    switch (type) {
        case R_32F: return static_cast<const float*>(p)[i];
        case R_16BF: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
        default: return __half2float(static_cast<const __half*>(p)[i]);
    }
}

void store(void* p, int type, size_t i, float v) {
    switch (type) {
        case R_32F: static_cast<float*>(p)[i] = v; break;
        case R_16BF: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(v); break;
        default: static_cast<__half*>(p)[i] = __float2half_rn(v); break;
    }
}

// Eight interleaved partial sums in a fixed order: deterministic, and vectorizable without -ffast-math.
float dot(const float* a, const float* b, int k) {
    float s[8] = {};
    int l = 0;
    for (; l + 8 <= k; l += 8) {
        for (int u = 0; u < 8; u++) s[u] += a[l + u] * b[l + u];
    }
    for (; l < k; l++) s[l & 7] += a[l] * b[l];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

struct Gemm {
    int transa, transb, m, n, k;
    float alpha, beta;
    uintptr_t a, b, c;
    int atype, btype, ctype;
    int lda, ldb, ldc;
    long long stride_a, stride_b, stride_c;
    int batch;
    const char* api;

    size_t extent(int rows, int cols, int ld, long long stride, int type) const {
        if (rows == 0 || cols == 0 || batch == 0) return 0;
        const size_t one = (static_cast<size_t>(cols) - 1) * static_cast<size_t>(ld) + static_cast<size_t>(rows);
        return (one + static_cast<size_t>(stride) * static_cast<size_t>(batch - 1)) * type_size(type);
    }

    bool check(uintptr_t p, size_t bytes, const char* which, Fault* fault) const {
        if (bytes == 0 || memory_valid(p, bytes)) return true;
        fault->code = ERROR_ILLEGAL_ADDRESS;
        fault->text = std::string(api) + ": matrix " + which + " [" + hex(p) + ", +" + std::to_string(bytes) +
                      " bytes) is not inside one live device allocation: " + memory_describe(p, bytes);
        return false;
    }

    bool run(Fault* fault) const {
        const int ar = transa == 0 ? m : k, ac = transa == 0 ? k : m;
        const int br = transb == 0 ? k : n, bc = transb == 0 ? n : k;
        if (!check(a, extent(ar, ac, lda, stride_a, atype), "A", fault) ||
            !check(b, extent(br, bc, ldb, stride_b, btype), "B", fault) ||
            !check(c, extent(m, n, ldc, stride_c, ctype), "C", fault)) {
            return false;
        }
        std::vector<float> af(static_cast<size_t>(m) * k), bf(static_cast<size_t>(n) * k);
        for (int bi = 0; bi < batch; bi++) {
            const void* A = reinterpret_cast<const void*>(a + bi * stride_a * static_cast<long long>(type_size(atype)));
            const void* B = reinterpret_cast<const void*>(b + bi * stride_b * static_cast<long long>(type_size(btype)));
            void* C = reinterpret_cast<void*>(c + bi * stride_c * static_cast<long long>(type_size(ctype)));
            // op(A) as rows of length k, op(B)^T as rows of length k: both dot operands contiguous.
            for (int i = 0; i < m; i++) {
                for (int l = 0; l < k; l++) {
                    const size_t idx = transa == 0 ? i + static_cast<size_t>(l) * lda : l + static_cast<size_t>(i) * lda;
                    af[static_cast<size_t>(i) * k + l] = load(A, atype, idx);
                }
            }
            for (int j = 0; j < n; j++) {
                for (int l = 0; l < k; l++) {
                    const size_t idx = transb == 0 ? l + static_cast<size_t>(j) * ldb : j + static_cast<size_t>(l) * ldb;
                    bf[static_cast<size_t>(j) * k + l] = load(B, btype, idx);
                }
            }
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) {
                    const size_t ci = i + static_cast<size_t>(j) * ldc;
                    float v = alpha * dot(&af[static_cast<size_t>(i) * k], &bf[static_cast<size_t>(j) * k], k);
                    // NOTE: as cuBLAS, C is not read when beta is 0 (it may hold NaN).
                    if (beta != 0.f) v += beta * load(C, ctype, ci);
                    store(C, ctype, ci, v);
                }
            }
        }
        std::lock_guard<std::mutex> lock(g_driver.mu);
        g_driver.stats[4]++;
        return true;
    }
};

Handle* handle_of(void* h) {
    auto it = h == nullptr ? g_driver.live.end() : g_driver.live.find(h);
    return it != g_driver.live.end() && it->second == H_CUBLAS ? static_cast<Handle*>(h) : nullptr;
}

int queue_gemm(void* handle, Gemm g, const void* alpha, const void* beta) {
    std::unique_lock<std::mutex> lock(g_driver.mu);
    Handle* h = handle_of(handle);
    if (h == nullptr || !h->ctx->alive) return STATUS_NOT_INITIALIZED;
    if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0) return STATUS_INVALID_VALUE;
    if (g.transa < 0 || g.transa > 2 || g.transb < 0 || g.transb > 2) return STATUS_INVALID_VALUE;
    if (g.lda < std::max(1, g.transa == 0 ? g.m : g.k) || g.ldb < std::max(1, g.transb == 0 ? g.k : g.n) ||
        g.ldc < std::max(1, g.m)) {
        return STATUS_INVALID_VALUE;
    }
    if (alpha == nullptr || beta == nullptr) return STATUS_INVALID_VALUE;
    if (!types_ok(g.atype, g.btype, g.ctype)) return STATUS_NOT_SUPPORTED;
    if (h->ctx->sticky != 0) return STATUS_EXECUTION_FAILED;
    if (g.m == 0 || g.n == 0 || g.batch == 0) return STATUS_SUCCESS;
    // NOTE: in host pointer mode alpha and beta are read now; a graph replays these values.
    memcpy(&g.alpha, alpha, sizeof(float));
    memcpy(&g.beta, beta, sizeof(float));
    Stream* s = resolve_stream(h->ctx, h->stream);
    if (s == nullptr) return STATUS_INVALID_VALUE;
    Op op{};
    op.kind = Op::HOST;
    op.what = g.api;
    op.host = [g](Fault* f) { return g.run(f); };
    return submit(s, std::move(op), lock) == SUCCESS ? STATUS_SUCCESS : STATUS_EXECUTION_FAILED;
}

}  // namespace

extern "C" {

int cublasCreate_v2(void** handle) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (handle == nullptr) return STATUS_INVALID_VALUE;
    Context* ctx = g_driver.initialized ? current_context() : nullptr;
    if (ctx == nullptr || !ctx->alive) return STATUS_NOT_INITIALIZED;
    Handle* h = new Handle{ctx, nullptr, 0};
    g_driver.live.emplace(h, H_CUBLAS);
    *handle = h;
    return STATUS_SUCCESS;
}

int cublasDestroy_v2(void* handle) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    Handle* h = handle_of(handle);
    if (h == nullptr) return STATUS_NOT_INITIALIZED;
    g_driver.live.erase(h);
    delete h;
    return STATUS_SUCCESS;
}

int cublasSetStream_v2(void* handle, void* stream) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    Handle* h = handle_of(handle);
    if (h == nullptr) return STATUS_NOT_INITIALIZED;
    if (resolve_stream(h->ctx, stream) == nullptr) return STATUS_INVALID_VALUE;
    h->stream = stream;
    return STATUS_SUCCESS;
}

// The emulated GEMMs need no scratch; the workspace is checked to be device memory and otherwise unused.
int cublasSetWorkspace_v2(void* handle, void* workspace, size_t bytes) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    Handle* h = handle_of(handle);
    if (h == nullptr) return STATUS_NOT_INITIALIZED;
    if (bytes > 0 && !memory_valid(reinterpret_cast<uintptr_t>(workspace), bytes)) return STATUS_INVALID_VALUE;
    return STATUS_SUCCESS;
}

int cublasSetMathMode(void* handle, int mode) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    Handle* h = handle_of(handle);
    if (h == nullptr) return STATUS_NOT_INITIALIZED;
    h->math_mode = mode;
    return STATUS_SUCCESS;
}

int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* a,
                 int atype, int lda, const void* b, int btype, int ldb, const void* beta, void* c, int ctype, int ldc,
                 int compute, int algo) {
    (void)algo;
    if (!compute_ok(compute)) return STATUS_NOT_SUPPORTED;
    Gemm g{transa, transb, m, n, k, 0.f, 0.f, reinterpret_cast<uintptr_t>(a), reinterpret_cast<uintptr_t>(b),
           reinterpret_cast<uintptr_t>(c), atype, btype, ctype, lda, ldb, ldc, 0, 0, 0, 1, "cublasGemmEx"};
    return queue_gemm(handle, g, alpha, beta);
}

int cublasGemmStridedBatchedEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                               const void* a, int atype, int lda, long long stride_a, const void* b, int btype, int ldb,
                               long long stride_b, const void* beta, void* c, int ctype, int ldc, long long stride_c,
                               int batch, int compute, int algo) {
    (void)algo;
    if (!compute_ok(compute)) return STATUS_NOT_SUPPORTED;
    if (stride_a < 0 || stride_b < 0 || stride_c < 0) return STATUS_INVALID_VALUE;
    Gemm g{transa, transb, m, n, k, 0.f, 0.f, reinterpret_cast<uintptr_t>(a), reinterpret_cast<uintptr_t>(b),
           reinterpret_cast<uintptr_t>(c), atype, btype, ctype, lda, ldb, ldc, stride_a, stride_b, stride_c, batch,
           "cublasGemmStridedBatchedEx"};
    return queue_gemm(handle, g, alpha, beta);
}

}  // extern "C"
