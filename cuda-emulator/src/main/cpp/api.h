// What the CUDA API translation units share: the preamble of a call on the current context, handle lookup, and
// the blocking copies and fills.
#pragma once
#include <string.h>

#include "driver.h"

namespace bkemu {

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

// The common preamble of calls on the current context: initialized, a live current context, not sticky.
#define REQUIRE_CONTEXT(lock, ctx)                                    \
    std::unique_lock<std::mutex> lock(g_driver.mu);                  \
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;         \
    Context* ctx = current_context();                                 \
    if (ctx == nullptr || !ctx->alive) return ERROR_INVALID_CONTEXT; \
    if (ctx->sticky != 0) return ctx->sticky;


// The object behind a live handle of the given kind, or null (CUDA_ERROR_INVALID_HANDLE).
template <typename T>
inline T* live(void* handle, HandleKind kind) {
    auto it = handle == nullptr ? g_driver.live.end() : g_driver.live.find(handle);
    return it != g_driver.live.end() && it->second == kind ? static_cast<T*>(handle) : nullptr;
}

// A copy or fill; count is bytes for copies and MEMSET8, elements for MEMSET32.
inline Op transfer(Op::Kind kind, const char* what, uintptr_t dst, uintptr_t src, size_t count, uint32_t value) {
    Op op{};
    op.kind = kind;
    op.what = what;
    op.dst = dst;
    op.src = src;
    op.bytes = count;
    op.value = value;
    return op;
}

inline CUresult copy_sync(Op op, Context* ctx, std::unique_lock<std::mutex>& lock) {
    const int unsafe = check_capture_unsafe();
    if (unsafe != SUCCESS) return unsafe;
    Stream* s = ctx->legacy;
    const int r = submit(s, std::move(op), lock);
    if (r != SUCCESS) return r;
    return wait_stream(s, s->queued, lock);
}


}  // namespace bkemu
