// The CUDA driver API's modules, functions and kernel launches.
#include "api.h"

using namespace bkemu;

extern "C" {

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

}  // extern "C"
