// Internals of the Bulkhead CUDA emulator shared by its translation units. The emulator is a shared library
// exporting the CUDA driver API and cuBLAS functions Bulkhead binds (same names, same C signatures), which
// runs the kernels' own sources, compiled by g++, on one device thread of the host:
//   executor.cpp  one block at a time, a fiber per CUDA thread, real barriers and lockstep warp shuffles,
//                 thread order shuffled per launch from a seed; synccheck-style errors instead of hangs
//   memory.cpp    device memory in one reserved address range, every allocation tracked; each memory access
//                 of a kernel is checked (memcheck: out of bounds, use after free, not device memory)
//   driver.cpp    contexts, streams run later and in order on the device thread, events, graph capture,
//                 modules, launches with the H100's limits, sticky errors, fault injection
//   cublas.cpp    cublasGemmEx / cublasGemmStridedBatchedEx, column-major, fp32 accumulation
// What an emulator cannot show (timing, the GPU memory model, SASS code generation) is listed in the README.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <string>
#include <vector>

#include "cuda_emu.h"

namespace bkemu {

// CUresult values the emulator returns (cuda.h names).
enum Result : int {
    SUCCESS = 0,
    ERROR_INVALID_VALUE = 1,
    ERROR_OUT_OF_MEMORY = 2,
    ERROR_NOT_INITIALIZED = 3,
    ERROR_INVALID_DEVICE = 101,
    ERROR_INVALID_IMAGE = 200,
    ERROR_INVALID_CONTEXT = 201,
    ERROR_INVALID_HANDLE = 400,
    ERROR_ILLEGAL_STATE = 401,
    ERROR_NOT_FOUND = 500,
    ERROR_NOT_READY = 600,
    ERROR_ILLEGAL_ADDRESS = 700,
    ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    ERROR_MISALIGNED_ADDRESS = 716,
    ERROR_LAUNCH_FAILED = 719,
    ERROR_NOT_SUPPORTED = 801,
    ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    ERROR_STREAM_CAPTURE_UNMATCHED = 903,
    ERROR_STREAM_CAPTURE_ISOLATION = 905,
    ERROR_STREAM_CAPTURE_IMPLICIT = 906,
    ERROR_CAPTURED_EVENT = 907,
    ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
};

// H100 SXM limits the launch checks enforce.
constexpr int kMaxThreadsPerBlock = 1024;
constexpr int kMaxBlockDimZ = 64;
constexpr unsigned kMaxGridDimX = 0x7fffffffu;
constexpr unsigned kMaxGridDimYZ = 65535u;
constexpr int kDefaultDynamicShared = 48 * 1024;
constexpr int kMaxSharedPerBlockOptin = 227 * 1024;
constexpr int kMultiprocessors = 132;

// One kernel the emulator can run: its C signature's parameter layout and a way to call it.
struct KernelDef {
    const char* name;
    void* fn;
    int num_params;
    const size_t* offsets;  // (num_params) byte offset of each parameter in the packed buffer (C ABI alignment)
    const size_t* sizes;    // (num_params) sizeof each parameter
    size_t param_bytes;     // packed buffer size
    void (*invoke)(void* fn, const unsigned char* params);
};

// A named set of kernels (what one module image gives access to).
struct KernelSet {
    const char* name;
    const KernelDef* kernels;
    int count;
    const KernelDef* find(const char* name) const;
};
extern const KernelSet kBulkheadKernels;  // kernels.cpp: the sources of bulkhead.cu
extern const KernelSet kProbeKernels;     // test_kernels.cpp: kernels that exist to prove the emulator's checks

// What a failed kernel (or cuBLAS call) reports: the CUresult it makes sticky and a sanitizer-style text.
struct Fault {
    int code = 0;
    std::string text;
};

// One launch as the executor runs it.
struct Launch {
    const KernelDef* kernel;
    bkemu_dim3 grid, block;
    int dynamic_shared;
    std::vector<unsigned char> params;  // packed as kernel->offsets say
    uint64_t launch_index;              // process-wide, for the seed and messages
};

// executor.cpp: runs every block of a launch on the calling (device) thread; false with a fault on error.
bool execute(const Launch& launch, uint64_t seed, Fault* fault);

// memory.cpp
struct Allocation {
    uintptr_t start;
    size_t size;
    uint64_t serial;   // 1, 2, ... in order of cuMemAlloc, for messages
    void* context;     // owning context
    bool live;
};
// The reserved device address range. Allocations start on a granule boundary, so the owner table maps any
// address to the one allocation that may contain it in O(1) (the kernel-access check's fast path).
constexpr int kGranuleShift = 16;
struct DeviceSpace {
    uintptr_t base = 0;
    size_t span = 0;
    std::atomic<uint32_t>* owner = nullptr;  // (span >> kGranuleShift) index + 1 into allocs, 0 = none
    Allocation* allocs = nullptr;            // records, never moved
};
extern DeviceSpace g_space;

void memory_init(size_t device_bytes);
size_t memory_total();
size_t memory_used();
// Reserves and maps a new allocation; 0 when the emulated device is full.
uintptr_t memory_alloc(size_t bytes, void* context);
// Unmaps a live allocation that starts at p; false when p is not the start of one.
bool memory_free(uintptr_t p);
// Frees every live allocation of a context.
void memory_free_context(void* context);
// Whether [p, p + n) lies inside one live allocation.
bool memory_valid(uintptr_t p, size_t n);
// A description of why [p, p + n) is not valid device memory ("12 bytes after the end of allocation ...").
std::string memory_describe(uintptr_t p, size_t n);
bool memory_poison_enabled();
// Page-locked host memory (cuMemHostAlloc): kernels may read it (zero-copy) and async copies read it late.
void* pinned_alloc(size_t bytes, void* context);
bool pinned_free(void* p);
bool pinned_contains(uintptr_t p, size_t n);
void pinned_free_context(void* context);

// executor.cpp <-> memory.cpp: the kernel-access check the instrumented kernels call, and where a fault goes.
void kernel_access_fault(uintptr_t address, size_t size, bool write, const char* why);

std::string hex(uintptr_t v);

}  // namespace bkemu
