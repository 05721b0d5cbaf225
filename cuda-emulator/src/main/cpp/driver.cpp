// The CUDA driver API functions Bulkhead binds, with the symbol names cuda.h maps them to and the same C
// signatures. Errors are the driver's: invalid arguments and handles, launch limits, capture rules, and the
// sticky error after a kernel fault (every later call on that context returns it until the primary context
// is released by all its users and made anew).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <random>

#include "driver.h"

using namespace bkemu;

namespace {

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

constexpr int kDriverVersion = 12040;  // NOTE: a 12.4-level driver: cuFuncGetParamInfo, no cuEventElapsedTime_v2
const char kDeviceName[] = "Bulkhead CUDA emulator (CPU, not a GPU)";
constexpr size_t kDefaultMemory = size_t{8} << 30;

// Settings that bkemu_configure or the environment give before cuInit.
struct Settings {
    size_t memory = kDefaultMemory;
    bool seed_set = false;
    uint64_t seed = 0;
    int devices = 1;
};
Settings settings;

// Fault injection: the n-th run (from when the rule was set) of a kernel faults with a sticky illegal address;
// the n-th cuMemAlloc fails with CUDA_ERROR_OUT_OF_MEMORY.
struct FaultRule {
    bool alloc;
    std::string kernel;
    uint64_t at;
    uint64_t seen = 0;
};
std::mutex fault_mu;
std::vector<FaultRule> fault_rules;

bool parse_size(const char* v, size_t* out) {
    char* end = nullptr;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v) return false;
    switch (*end) {
        case 'k': case 'K': n <<= 10; end++; break;
        case 'm': case 'M': n <<= 20; end++; break;
        case 'g': case 'G': n <<= 30; end++; break;
        default: break;
    }
    if (*end != '\0' || n == 0) return false;
    *out = n;
    return true;
}

// "launch:KERNEL:N,alloc:N" (empty clears).
bool parse_faults(const char* spec) {
    std::vector<FaultRule> rules;
    std::string s = spec == nullptr ? "" : spec;
    size_t at = 0;
    while (at < s.size()) {
        size_t comma = s.find(',', at);
        std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        at = comma == std::string::npos ? s.size() : comma + 1;
        if (item.empty()) continue;
        FaultRule r{};
        if (item.rfind("launch:", 0) == 0) {
            size_t colon = item.rfind(':');
            if (colon <= 7) return false;
            r.alloc = false;
            r.kernel = item.substr(7, colon - 7);
            r.at = strtoull(item.c_str() + colon + 1, nullptr, 10);
        } else if (item.rfind("alloc:", 0) == 0) {
            r.alloc = true;
            r.at = strtoull(item.c_str() + 6, nullptr, 10);
        } else {
            return false;
        }
        if (r.at == 0) return false;
        rules.push_back(r);
    }
    std::lock_guard<std::mutex> lock(fault_mu);
    fault_rules = rules;
    return true;
}

bool alloc_fault() {
    std::lock_guard<std::mutex> lock(fault_mu);
    for (FaultRule& r : fault_rules) {
        if (r.alloc && ++r.seen == r.at) return true;
    }
    return false;
}

// Common preamble of calls on the current context: initialized, a live current context, not sticky.
#define REQUIRE_CONTEXT(lock, ctx)                                    \
    std::unique_lock<std::mutex> lock(g_driver.mu);                  \
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;         \
    Context* ctx = current_context();                                 \
    if (ctx == nullptr || !ctx->alive) return ERROR_INVALID_CONTEXT; \
    if (ctx->sticky != 0) return ctx->sticky;

Context* new_context(int device) {
    Context* c = new Context{};
    c->device = device;
    Stream* legacy = new Stream{};
    legacy->ctx = c;
    legacy->legacy = true;
    legacy->blocking = true;
    c->legacy = legacy;
    c->streams.insert(legacy);
    g_driver.live.emplace(c, H_CONTEXT);
    return c;
}

void destroy_context(Context* c, std::unique_lock<std::mutex>& lock) {
    wait_context(c, lock);
    c->alive = false;
    for (Stream* s : c->streams) {
        s->alive = false;
        g_driver.live.erase(s);
    }
    g_driver.live.erase(c);
    lock.unlock();
    memory_free_context(c);
    pinned_free_context(c);
    lock.lock();
}

template <typename T>
T* live(void* handle, HandleKind kind) {
    auto it = handle == nullptr ? g_driver.live.end() : g_driver.live.find(handle);
    return it != g_driver.live.end() && it->second == kind ? static_cast<T*>(handle) : nullptr;
}

// A copy or fill; count is bytes for copies and MEMSET8, elements for MEMSET32.
Op transfer(Op::Kind kind, const char* what, uintptr_t dst, uintptr_t src, size_t count, uint32_t value) {
    Op op{};
    op.kind = kind;
    op.what = what;
    op.dst = dst;
    op.src = src;
    op.bytes = count;
    op.value = value;
    return op;
}

CUresult copy_sync(Op op, Context* ctx, std::unique_lock<std::mutex>& lock) {
    const int unsafe = check_capture_unsafe();
    if (unsafe != SUCCESS) return unsafe;
    Stream* s = ctx->legacy;
    const int r = submit(s, std::move(op), lock);
    if (r != SUCCESS) return r;
    return wait_stream(s, s->queued, lock);
}

}  // namespace

namespace bkemu {

const KernelDef* KernelSet::find(const char* wanted) const {
    for (int i = 0; i < count; i++) {
        if (strcmp(kernels[i].name, wanted) == 0) return &kernels[i];
    }
    return nullptr;
}

bool run_fault_rules_for_launch(const char* kernel, Fault* fault) {
    std::lock_guard<std::mutex> lock(fault_mu);
    for (FaultRule& r : fault_rules) {
        if (!r.alloc && r.kernel == kernel && ++r.seen == r.at) {
            fault->code = ERROR_ILLEGAL_ADDRESS;
            fault->text = "Injected fault: launch " + std::to_string(r.at) + " of " + kernel +
                          " made an illegal address access (BULKHEAD_CUEMU_FAULTS / bkemu_configure(\"faults\"))";
            std::lock_guard<std::mutex> stats(g_driver.mu);
            g_driver.stats[5]++;
            return true;
        }
    }
    return false;
}

}  // namespace bkemu

extern "C" {

// ---- Emulator extensions (not CUDA API). ----

int bkemu_is_emulator() { return 1; }

// Settings before cuInit: "memory" (bytes, k/M/G suffix), "seed", "devices"; any time: "seed", "faults".
int bkemu_configure(const char* key, const char* value) {
    if (key == nullptr || value == nullptr) return -1;
    std::string k = key;
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (k == "faults") return parse_faults(value) ? 0 : -1;
    if (k == "seed") {
        char* end = nullptr;
        unsigned long long s = strtoull(value, &end, 0);
        if (end == value || *end != '\0') return -1;
        settings.seed = s;
        settings.seed_set = true;
        g_driver.seed = s;
        return 0;
    }
    if (g_driver.initialized) return -2;
    if (k == "memory") return parse_size(value, &settings.memory) ? 0 : -1;
    if (k == "devices") {
        int n = atoi(value);
        if (n < 1 || n > 8) return -1;
        settings.devices = n;
        return 0;
    }
    return -1;
}

unsigned long long bkemu_seed() {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    return g_driver.seed;
}

// The fault report of the calling thread's context, else the last one in the process. Returns its length.
int bkemu_error_report(char* buf, size_t cap) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    Context* c = current_context();
    const std::string& r = c != nullptr && !c->report.empty() ? c->report : g_driver.last_report;
    if (buf != nullptr && cap > 0) {
        size_t n = std::min(cap - 1, r.size());
        memcpy(buf, r.data(), n);
        buf[n] = '\0';
    }
    return static_cast<int>(r.size());
}

// launches, blocks, threads, graph launches, GEMMs, injected faults.
void bkemu_stats(unsigned long long* out, int n) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    for (int i = 0; i < n && i < 6; i++) out[i] = g_driver.stats[i];
}

// ---- Initialization and devices. ----

CUresult cuInit(unsigned int flags) {
    if (flags != 0) return ERROR_INVALID_VALUE;
    std::unique_lock<std::mutex> lock(g_driver.mu);
    if (g_driver.initialized) return SUCCESS;
    if (const char* v = getenv("BULKHEAD_CUEMU_MEMORY")) parse_size(v, &settings.memory);
    if (const char* v = getenv("BULKHEAD_CUEMU_DEVICES")) settings.devices = std::max(1, std::min(8, atoi(v)));
    if (const char* v = getenv("BULKHEAD_CUEMU_SEED"); v != nullptr && !settings.seed_set) {
        settings.seed = strtoull(v, nullptr, 0);
        settings.seed_set = true;
    }
    if (const char* v = getenv("BULKHEAD_CUEMU_FAULTS")) {
        lock.unlock();
        parse_faults(v);
        lock.lock();
    }
    if (!settings.seed_set) {
        settings.seed = std::random_device{}() ^
                        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    g_driver.seed = settings.seed;
    g_driver.devices = settings.devices;
    g_driver.primary.assign(static_cast<size_t>(settings.devices), nullptr);
    memory_init(settings.memory);
    start_device_thread();
    g_driver.initialized = true;
    return SUCCESS;
}

CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return ERROR_INVALID_VALUE;
    *version = kDriverVersion;
    return SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    if (count == nullptr) return ERROR_INVALID_VALUE;
    *count = g_driver.devices;
    return SUCCESS;
}

CUresult cuDeviceGet(int* device, int ordinal) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    if (device == nullptr) return ERROR_INVALID_VALUE;
    if (ordinal < 0 || ordinal >= g_driver.devices) return ERROR_INVALID_DEVICE;
    *device = ordinal;
    return SUCCESS;
}

CUresult cuDeviceGetName(char* name, int len, int device) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    if (device < 0 || device >= g_driver.devices) return ERROR_INVALID_DEVICE;
    if (name == nullptr || len <= 0) return ERROR_INVALID_VALUE;
    snprintf(name, static_cast<size_t>(len), "%s", kDeviceName);
    return SUCCESS;
}

CUresult cuDeviceGetAttribute(int* value, int attribute, int device) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    if (device < 0 || device >= g_driver.devices) return ERROR_INVALID_DEVICE;
    if (value == nullptr || attribute < 1 || attribute > 200) return ERROR_INVALID_VALUE;
    // An H100 SXM's answers for what a launch or a runner may ask.
    switch (attribute) {
        case 1: *value = kMaxThreadsPerBlock; break;              // MAX_THREADS_PER_BLOCK
        case 2: case 3: *value = 1024; break;                     // MAX_BLOCK_DIM_X, _Y
        case 4: *value = kMaxBlockDimZ; break;                    // MAX_BLOCK_DIM_Z
        case 5: *value = static_cast<int>(kMaxGridDimX); break;   // MAX_GRID_DIM_X
        case 6: case 7: *value = static_cast<int>(kMaxGridDimYZ); break;
        case 8: *value = kDefaultDynamicShared; break;            // MAX_SHARED_MEMORY_PER_BLOCK
        case 9: *value = 65536; break;                            // TOTAL_CONSTANT_MEMORY
        case 10: *value = 32; break;                              // WARP_SIZE
        case 12: case 82: *value = 65536; break;                  // registers per block / multiprocessor
        case 13: *value = 1980000; break;                         // CLOCK_RATE (kHz)
        case 16: *value = kMultiprocessors; break;                // MULTIPROCESSOR_COUNT
        case 38: *value = 50 << 20; break;                        // L2_CACHE_SIZE
        case 39: *value = 2048; break;                            // MAX_THREADS_PER_MULTIPROCESSOR
        case 41: *value = 1; break;                               // UNIFIED_ADDRESSING
        case 75: *value = 9; break;                               // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = 0; break;                               // COMPUTE_CAPABILITY_MINOR
        case 81: *value = 228 * 1024; break;                      // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 97: *value = kMaxSharedPerBlockOptin; break;         // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        case 106: *value = 32; break;                             // MAX_BLOCKS_PER_MULTIPROCESSOR
        default: *value = 0; break;
    }
    return SUCCESS;
}

// ---- Contexts. ----

CUresult cuDevicePrimaryCtxRetain(void** pctx, int device) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    if (pctx == nullptr) return ERROR_INVALID_VALUE;
    if (device < 0 || device >= g_driver.devices) return ERROR_INVALID_DEVICE;
    Context*& c = g_driver.primary[static_cast<size_t>(device)];
    if (c == nullptr || !c->alive) c = new_context(device);
    c->refs++;
    *pctx = c;
    return SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(int device) {
    std::unique_lock<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    if (device < 0 || device >= g_driver.devices) return ERROR_INVALID_DEVICE;
    Context* c = g_driver.primary[static_cast<size_t>(device)];
    if (c == nullptr || !c->alive || c->refs == 0) return ERROR_INVALID_CONTEXT;
    if (--c->refs == 0) destroy_context(c, lock);
    return SUCCESS;
}

CUresult cuCtxSetCurrent(void* ctx) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    Context* c = static_cast<Context*>(ctx);
    if (c != nullptr && (live<Context>(c, H_CONTEXT) == nullptr || !c->alive)) return ERROR_INVALID_CONTEXT;
    current_context() = c;
    return SUCCESS;
}

CUresult cuCtxGetCurrent(void** ctx) {
    if (ctx == nullptr) return ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    *ctx = current_context();
    return SUCCESS;
}

CUresult cuCtxSynchronize() {
    REQUIRE_CONTEXT(lock, ctx);
    const int unsafe = check_capture_unsafe();
    if (unsafe != SUCCESS) return unsafe;
    return wait_context(ctx, lock);
}

// ---- Memory. ----

CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
    REQUIRE_CONTEXT(lock, ctx);
    if (free_bytes == nullptr || total == nullptr) return ERROR_INVALID_VALUE;
    lock.unlock();
    *total = memory_total();
    *free_bytes = memory_total() - memory_used();
    return SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    REQUIRE_CONTEXT(lock, ctx);
    if (p == nullptr || bytes == 0) return ERROR_INVALID_VALUE;
    const int unsafe = check_capture_unsafe();
    if (unsafe != SUCCESS) return unsafe;
    lock.unlock();
    if (alloc_fault()) {
        std::lock_guard<std::mutex> stats(g_driver.mu);
        g_driver.stats[5]++;
        return ERROR_OUT_OF_MEMORY;
    }
    const uintptr_t a = memory_alloc(bytes, ctx);
    if (a == 0) return ERROR_OUT_OF_MEMORY;
    *p = a;
    return SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
    REQUIRE_CONTEXT(lock, ctx);
    const int unsafe = check_capture_unsafe();
    if (unsafe != SUCCESS) return unsafe;
    if (p == 0) return SUCCESS;
    // NOTE: like cudaFree, waits for queued work first, so no kernel runs on freed memory.
    const int r = wait_context(ctx, lock);
    if (r != SUCCESS) return r;
    lock.unlock();
    return memory_free(p) ? SUCCESS : ERROR_INVALID_VALUE;
}

CUresult cuMemHostAlloc(void** pp, size_t bytes, unsigned int flags) {
    REQUIRE_CONTEXT(lock, ctx);
    (void)flags;
    if (pp == nullptr) return ERROR_INVALID_VALUE;
    lock.unlock();
    void* p = pinned_alloc(bytes, ctx);
    if (p == nullptr) return ERROR_OUT_OF_MEMORY;
    *pp = p;
    return SUCCESS;
}

CUresult cuMemFreeHost(void* p) {
    REQUIRE_CONTEXT(lock, ctx);
    const int r = wait_context(ctx, lock);
    if (r != SUCCESS) return r;
    lock.unlock();
    return pinned_free(p) ? SUCCESS : ERROR_INVALID_VALUE;
}

// The blocking copies and fills: checked here, then run on the legacy stream while the caller waits.
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    REQUIRE_CONTEXT(lock, ctx);
    if (bytes == 0) return SUCCESS;
    if (src == nullptr || !memory_valid(dst, bytes)) return ERROR_INVALID_VALUE;
    Op op = transfer(Op::HTOD, "cuMemcpyHtoD", dst, 0, bytes, 0);
    op.staged.assign(static_cast<const unsigned char*>(src), static_cast<const unsigned char*>(src) + bytes);
    return copy_sync(std::move(op), ctx, lock);
}

CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    REQUIRE_CONTEXT(lock, ctx);
    if (bytes == 0) return SUCCESS;
    if (dst == nullptr || !memory_valid(src, bytes)) return ERROR_INVALID_VALUE;
    return copy_sync(transfer(Op::DTOH, "cuMemcpyDtoH", reinterpret_cast<uintptr_t>(dst), src, bytes, 0), ctx, lock);
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    REQUIRE_CONTEXT(lock, ctx);
    if (bytes == 0) return SUCCESS;
    if (!memory_valid(dst, bytes) || !memory_valid(src, bytes)) return ERROR_INVALID_VALUE;
    return copy_sync(transfer(Op::DTOD, "cuMemcpyDtoD", dst, src, bytes, 0), ctx, lock);
}

CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
    REQUIRE_CONTEXT(lock, ctx);
    if (count == 0) return SUCCESS;
    if (!memory_valid(dst, count)) return ERROR_INVALID_VALUE;
    return copy_sync(transfer(Op::MEMSET8, "cuMemsetD8", dst, 0, count, value), ctx, lock);
}

CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t count) {
    REQUIRE_CONTEXT(lock, ctx);
    if (count == 0) return SUCCESS;
    if ((dst & 3) != 0 || !memory_valid(dst, count * 4)) return ERROR_INVALID_VALUE;
    return copy_sync(transfer(Op::MEMSET32, "cuMemsetD32", dst, 0, count, value), ctx, lock);
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (bytes == 0) return SUCCESS;
    if (src == nullptr || !memory_valid(dst, bytes)) return ERROR_INVALID_VALUE;
    Op op = transfer(Op::HTOD, "cuMemcpyHtoDAsync", dst, 0, bytes, 0);
    if (pinned_contains(reinterpret_cast<uintptr_t>(src), bytes)) {
        op.src = reinterpret_cast<uintptr_t>(src);  // read when the copy runs
    } else {
        if (s->capturing) {
            s->invalidated = true;
            return ERROR_STREAM_CAPTURE_UNSUPPORTED;  // a pageable source cannot be replayed
        }
        op.staged.assign(static_cast<const unsigned char*>(src), static_cast<const unsigned char*>(src) + bytes);
    }
    return submit(s, std::move(op), lock);
}

CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (bytes == 0) return SUCCESS;
    if (dst == nullptr || !memory_valid(src, bytes)) return ERROR_INVALID_VALUE;
    const bool pinned = pinned_contains(reinterpret_cast<uintptr_t>(dst), bytes);
    if (!pinned && s->capturing) {
        s->invalidated = true;
        return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    const int r = submit(s, transfer(Op::DTOH, "cuMemcpyDtoHAsync", reinterpret_cast<uintptr_t>(dst), src, bytes, 0),
                         lock);
    // NOTE: into pageable memory the driver returns only once the copy is done.
    if (r != SUCCESS || pinned || s->capturing) return r;
    return wait_stream(s, s->queued, lock);
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (bytes == 0) return SUCCESS;
    if (!memory_valid(dst, bytes) || !memory_valid(src, bytes)) return ERROR_INVALID_VALUE;
    return submit(s, transfer(Op::DTOD, "cuMemcpyDtoDAsync", dst, src, bytes, 0), lock);
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (count == 0) return SUCCESS;
    if ((dst & 3) != 0 || !memory_valid(dst, count * 4)) return ERROR_INVALID_VALUE;
    return submit(s, transfer(Op::MEMSET32, "cuMemsetD32Async", dst, 0, count, value), lock);
}

// ---- Streams and events. ----

CUresult cuStreamCreate(void** ps, unsigned int flags) {
    REQUIRE_CONTEXT(lock, ctx);
    if (ps == nullptr || flags > 1) return ERROR_INVALID_VALUE;
    Stream* s = new Stream{};
    s->ctx = ctx;
    s->legacy = false;
    s->blocking = (flags & 1) == 0;
    ctx->streams.insert(s);
    g_driver.live.emplace(s, H_STREAM);
    *ps = s;
    return SUCCESS;
}

CUresult cuStreamDestroy_v2(void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = live<Stream>(stream, H_STREAM);
    if (s == nullptr || s->legacy || s->ctx != ctx) return ERROR_INVALID_HANDLE;
    if (s->capturing) return ERROR_ILLEGAL_STATE;
    const int r = wait_stream(s, s->queued, lock);
    s->alive = false;
    ctx->streams.erase(s);
    g_driver.live.erase(s);
    return r;
}

CUresult cuStreamSynchronize(void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (s->capturing) {
        s->invalidated = true;
        return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return wait_stream(s, s->queued, lock);
}

CUresult cuStreamQuery(void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (s->capturing) {
        s->invalidated = true;
        return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    if (s->done >= s->queued) return SUCCESS;
    // NOTE: asking is a reason to run: a host that polls sees the work finish.
    s->demand = s->queued;
    g_driver.device_wake.notify_one();
    return ERROR_NOT_READY;
}

CUresult cuStreamWaitEvent(void* stream, void* event, unsigned int flags) {
    REQUIRE_CONTEXT(lock, ctx);
    (void)flags;
    Stream* s = resolve_stream(ctx, stream);
    Event* e = live<Event>(event, H_EVENT);
    if (s == nullptr || e == nullptr) return ERROR_INVALID_HANDLE;
    if (!e->recorded) return SUCCESS;
    if (s->capturing) {
        if (e->captured && e->stream == s) return SUCCESS;
        s->invalidated = true;
        return ERROR_STREAM_CAPTURE_ISOLATION;  // NOTE: cross-stream capture (fork/join) is not emulated
    }
    if (e->captured) return ERROR_CAPTURED_EVENT;
    // A no-op kernel-less marker that depends on the event's position.
    Op op{};
    op.kind = Op::HOST;
    op.what = "cuStreamWaitEvent";
    op.host = [](Fault*) { return true; };
    op.deps.emplace_back(e->stream, e->seq);
    return submit(s, std::move(op), lock);
}

CUresult cuStreamIsCapturing(void* stream, int* status) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (status == nullptr) return ERROR_INVALID_VALUE;
    *status = !s->capturing ? 0 : s->invalidated ? 2 : 1;
    return SUCCESS;
}

CUresult cuEventCreate(void** pe, unsigned int flags) {
    REQUIRE_CONTEXT(lock, ctx);
    if (pe == nullptr || (flags & ~7u) != 0) return ERROR_INVALID_VALUE;
    Event* e = new Event{};
    e->ctx = ctx;
    e->flags = flags;
    g_driver.live.emplace(e, H_EVENT);
    *pe = e;
    return SUCCESS;
}

CUresult cuEventRecord(void* event, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    Stream* s = resolve_stream(ctx, stream);
    if (e == nullptr || s == nullptr || e->ctx != ctx) return ERROR_INVALID_HANDLE;
    Op op{};
    op.kind = Op::EVENT_RECORD;
    op.what = "cuEventRecord";
    op.event = e;
    return submit(s, std::move(op), lock);
}

CUresult cuEventQuery(void* event) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    if (e->captured) return ERROR_CAPTURED_EVENT;
    if (!e->recorded || e->done) return SUCCESS;
    if (e->stream->done >= e->seq) return SUCCESS;
    e->stream->demand = std::max(e->stream->demand, e->seq);
    g_driver.device_wake.notify_one();
    return ERROR_NOT_READY;
}

CUresult cuEventSynchronize(void* event) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    if (e->captured) return ERROR_CAPTURED_EVENT;
    if (!e->recorded) return SUCCESS;
    return wait_stream(e->stream, e->seq, lock);
}

// NOTE: only the original symbol: cuEventElapsedTime_v2 exists in drivers >= 12.8, and this emulates 12.4.
CUresult cuEventElapsedTime(float* ms, void* start, void* end) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* a = live<Event>(start, H_EVENT);
    Event* b = live<Event>(end, H_EVENT);
    if (ms == nullptr) return ERROR_INVALID_VALUE;
    if (a == nullptr || b == nullptr || (a->flags & 2) || (b->flags & 2)) return ERROR_INVALID_HANDLE;
    if (!a->recorded || !b->recorded) return ERROR_INVALID_HANDLE;
    if (a->captured || b->captured) return ERROR_CAPTURED_EVENT;
    if (!a->done || !b->done) return ERROR_NOT_READY;
    *ms = static_cast<float>(b->millis - a->millis);
    return SUCCESS;
}

CUresult cuEventDestroy_v2(void* event) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    e->alive = false;
    g_driver.live.erase(e);
    return SUCCESS;
}

// ---- Modules and launches. ----

CUresult cuModuleLoadData(void** pm, const void* image) {
    REQUIRE_CONTEXT(lock, ctx);
    if (pm == nullptr || image == nullptr) return ERROR_INVALID_VALUE;
    const unsigned char* b = static_cast<const unsigned char*>(image);
    const KernelSet* set = nullptr;
    // A Bulkhead fatbin (nvcc's magic 0xba55ed50) or cubin gives the same kernels compiled for the CPU; the
    // emulator cannot run SASS or PTX, so it runs its own build of the same sources.
    if ((b[0] == 0x50 && b[1] == 0xed && b[2] == 0x55 && b[3] == 0xba) || memcmp(b, "\x7f" "ELF", 4) == 0 ||
        strncmp(reinterpret_cast<const char*>(b), "BKEMU:bulkhead", 14) == 0) {
        set = &kBulkheadKernels;
    } else if (strncmp(reinterpret_cast<const char*>(b), "BKEMU:probes", 12) == 0) {
        set = &kProbeKernels;
    } else {
        return ERROR_INVALID_IMAGE;
    }
    Module* m = new Module{};
    m->ctx = ctx;
    m->kernels = set;
    g_driver.live.emplace(m, H_MODULE);
    *pm = m;
    return SUCCESS;
}

CUresult cuModuleUnload(void* module) {
    REQUIRE_CONTEXT(lock, ctx);
    Module* m = live<Module>(module, H_MODULE);
    if (m == nullptr || m->ctx != ctx) return ERROR_INVALID_HANDLE;
    const int r = wait_context(ctx, lock);
    m->alive = false;
    for (auto& f : m->functions) g_driver.live.erase(f.second);
    g_driver.live.erase(m);
    return r;
}

CUresult cuModuleGetFunction(void** pf, void* module, const char* name) {
    REQUIRE_CONTEXT(lock, ctx);
    Module* m = live<Module>(module, H_MODULE);
    if (m == nullptr || m->ctx != ctx) return ERROR_INVALID_HANDLE;
    if (pf == nullptr || name == nullptr) return ERROR_INVALID_VALUE;
    auto it = m->functions.find(name);
    if (it == m->functions.end()) {
        const KernelDef* def = m->kernels->find(name);
        if (def == nullptr) return ERROR_NOT_FOUND;
        Function* f = new Function{m, def, kDefaultDynamicShared};
        g_driver.live.emplace(f, H_FUNCTION);
        it = m->functions.emplace(name, f).first;
    }
    *pf = it->second;
    return SUCCESS;
}

CUresult cuFuncSetAttribute(void* func, int attribute, int value) {
    REQUIRE_CONTEXT(lock, ctx);
    Function* f = live<Function>(func, H_FUNCTION);
    if (f == nullptr || !f->module->alive) return ERROR_INVALID_HANDLE;
    if (attribute == 8) {  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
        if (value < 0 || value > kMaxSharedPerBlockOptin) return ERROR_INVALID_VALUE;
        f->max_dynamic_shared = value;
        return SUCCESS;
    }
    if (attribute == 9) return value >= -1 && value <= 100 ? SUCCESS : ERROR_INVALID_VALUE;  // carveout
    return ERROR_INVALID_VALUE;
}

CUresult cuFuncGetParamInfo(void* func, size_t index, size_t* offset, size_t* size) {
    std::lock_guard<std::mutex> lock(g_driver.mu);
    if (!g_driver.initialized) return ERROR_NOT_INITIALIZED;
    Function* f = live<Function>(func, H_FUNCTION);
    if (f == nullptr) return ERROR_INVALID_HANDLE;
    if (offset == nullptr || index >= static_cast<size_t>(f->def->num_params)) return ERROR_INVALID_VALUE;
    *offset = f->def->offsets[index];
    if (size != nullptr) *size = f->def->sizes[index];
    return SUCCESS;
}

CUresult cuLaunchKernel(void* func, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void* stream, void** params, void** extra) {
    REQUIRE_CONTEXT(lock, ctx);
    Function* f = live<Function>(func, H_FUNCTION);
    if (f == nullptr || !f->module->alive || f->module->ctx != ctx) return ERROR_INVALID_HANDLE;
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    const KernelDef* k = f->def;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return ERROR_INVALID_VALUE;
    if (bx > 1024 || by > 1024 || bz > static_cast<unsigned>(kMaxBlockDimZ) ||
        static_cast<unsigned long long>(bx) * by * bz > static_cast<unsigned>(kMaxThreadsPerBlock)) {
        return ERROR_INVALID_VALUE;
    }
    if (gx > kMaxGridDimX || gy > kMaxGridDimYZ || gz > kMaxGridDimYZ) return ERROR_INVALID_VALUE;
    if (shared > static_cast<unsigned>(f->max_dynamic_shared)) return ERROR_INVALID_VALUE;
    Launch launch{};
    launch.kernel = k;
    launch.grid = bkemu_dim3{gx, gy, gz};
    launch.block = bkemu_dim3{bx, by, bz};
    launch.dynamic_shared = static_cast<int>(shared);
    launch.params.assign(k->param_bytes, 0);
    if (params != nullptr && extra != nullptr) return ERROR_INVALID_VALUE;
    if (extra != nullptr) {
        // {CU_LAUNCH_PARAM_BUFFER_POINTER, buf, CU_LAUNCH_PARAM_BUFFER_SIZE, &size, CU_LAUNCH_PARAM_END}
        const void* buf = nullptr;
        const size_t* size = nullptr;
        for (int i = 0; extra[i] != nullptr; i += 2) {
            if (extra[i] == reinterpret_cast<void*>(1)) buf = extra[i + 1];
            else if (extra[i] == reinterpret_cast<void*>(2)) size = static_cast<const size_t*>(extra[i + 1]);
            else return ERROR_INVALID_VALUE;
        }
        if (k->param_bytes > 0 && (buf == nullptr || size == nullptr)) return ERROR_INVALID_VALUE;
        if (size != nullptr && *size != k->param_bytes) return ERROR_INVALID_VALUE;
        if (k->param_bytes > 0) memcpy(launch.params.data(), buf, k->param_bytes);
    } else if (k->num_params > 0) {
        if (params == nullptr) return ERROR_INVALID_VALUE;
        // NOTE: the driver copies the arguments now; the caller may change its packing right after.
        for (int i = 0; i < k->num_params; i++) {
            if (params[i] == nullptr) return ERROR_INVALID_VALUE;
            memcpy(launch.params.data() + k->offsets[i], params[i], k->sizes[i]);
        }
    }
    Op op{};
    op.kind = Op::KERNEL;
    op.what = k->name;
    op.launch = std::move(launch);
    return submit(s, std::move(op), lock);
}

// ---- Graphs (stream capture of one stream). ----

CUresult cuStreamBeginCapture_v2(void* stream, int mode) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (mode < CAPTURE_GLOBAL || mode > CAPTURE_RELAXED) return ERROR_INVALID_VALUE;
    if (s->legacy) return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    if (s->capturing) return ERROR_ILLEGAL_STATE;
    s->capturing = true;
    s->invalidated = false;
    s->mode = mode;
    s->capture_thread = std::this_thread::get_id();
    s->graph = new Graph{ctx, {}};
    return SUCCESS;
}

CUresult cuStreamEndCapture(void* stream, void** graph) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (graph == nullptr) return ERROR_INVALID_VALUE;
    if (!s->capturing) return ERROR_ILLEGAL_STATE;
    if (s->mode != CAPTURE_RELAXED && s->capture_thread != std::this_thread::get_id()) {
        return ERROR_STREAM_CAPTURE_WRONG_THREAD;
    }
    s->capturing = false;
    Graph* g = s->graph;
    s->graph = nullptr;
    if (s->invalidated) {
        delete g;
        *graph = nullptr;
        return ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    g_driver.live.emplace(g, H_GRAPH);
    *graph = g;
    return SUCCESS;
}

CUresult cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long flags) {
    REQUIRE_CONTEXT(lock, ctx);
    Graph* g = live<Graph>(graph, H_GRAPH);
    if (exec == nullptr || g == nullptr || flags != 0) return ERROR_INVALID_VALUE;
    GraphExec* e = new GraphExec{g->ctx, g->nodes};
    g_driver.live.emplace(e, H_GRAPH_EXEC);
    *exec = e;
    return SUCCESS;
}

CUresult cuGraphLaunch(void* exec, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    GraphExec* e = live<GraphExec>(exec, H_GRAPH_EXEC);
    Stream* s = resolve_stream(ctx, stream);
    if (e == nullptr || s == nullptr || e->ctx != ctx) return ERROR_INVALID_HANDLE;
    for (const Op& node : e->nodes) {
        Op op = node;
        op.deps.clear();
        const int r = submit(s, std::move(op), lock);
        if (r != SUCCESS) return r;
    }
    if (!s->capturing) g_driver.stats[3]++;
    return SUCCESS;
}

CUresult cuGraphExecDestroy(void* exec) {
    REQUIRE_CONTEXT(lock, ctx);
    GraphExec* e = live<GraphExec>(exec, H_GRAPH_EXEC);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    g_driver.live.erase(e);
    delete e;
    return SUCCESS;
}

CUresult cuGraphDestroy(void* graph) {
    REQUIRE_CONTEXT(lock, ctx);
    Graph* g = live<Graph>(graph, H_GRAPH);
    if (g == nullptr) return ERROR_INVALID_HANDLE;
    g_driver.live.erase(g);
    delete g;
    return SUCCESS;
}

CUresult cuGetErrorName(int error, const char** name) {
    if (name == nullptr) return ERROR_INVALID_VALUE;
    *name = error == 0 ? "CUDA_SUCCESS" : "CUDA_ERROR";
    return SUCCESS;
}

}  // extern "C"
