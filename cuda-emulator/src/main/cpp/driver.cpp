// The CUDA driver API functions Bulkhead binds, with the symbol names cuda.h maps them to and the same C
// signatures: here initialization, devices, contexts and memory; streams, modules and graphs in *_api.cpp.
// Errors are the driver's: invalid arguments and handles, launch limits, capture rules, and the sticky error
// after a kernel fault (every later call on that context returns it until the primary context is released by
// all its users and made anew).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <random>

#include "api.h"

using namespace bkemu;

namespace {

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

CUresult cuGetErrorName(int error, const char** name) {
    if (name == nullptr) return ERROR_INVALID_VALUE;
    *name = error == 0 ? "CUDA_SUCCESS" : "CUDA_ERROR";
    return SUCCESS;
}

}  // extern "C"
