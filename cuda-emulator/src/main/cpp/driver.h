// Driver objects (contexts, streams, events, modules, graphs) and the device thread that runs stream work.
// One process-wide mutex guards all of it; the device thread drops it while a kernel or copy runs.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "emu.h"

namespace bkemu {

struct Context;
struct Stream;
struct Event;
struct Graph;

// One unit of stream work. Host pointers of async copies are read or written when the op runs, as a GPU
// does with page-locked memory; pageable sources are staged when the copy is queued, as the driver does.
struct Op {
    enum Kind { KERNEL, HTOD, DTOH, DTOD, MEMSET8, MEMSET32, EVENT_RECORD, HOST } kind;
    std::string what;  // for messages: the API call or kernel name
    Launch launch;     // KERNEL
    uintptr_t dst = 0, src = 0;
    size_t bytes = 0;                   // copies: bytes; memsets: elements
    std::vector<unsigned char> staged;  // HTOD from pageable memory
    uint32_t value = 0;                 // memsets
    Event* event = nullptr;             // EVENT_RECORD
    std::function<bool(Fault*)> host;   // HOST (cuBLAS): false with a fault on error
    // Filled when queued.
    uint64_t seq = 0;
    std::vector<std::pair<Stream*, uint64_t>> deps;  // streams that must reach these positions first
};

// Kinds of handle in Driver::live.
enum HandleKind { H_CONTEXT, H_STREAM, H_EVENT, H_MODULE, H_FUNCTION, H_GRAPH, H_GRAPH_EXEC, H_CUBLAS };

enum CaptureMode { CAPTURE_GLOBAL = 0, CAPTURE_THREAD_LOCAL = 1, CAPTURE_RELAXED = 2 };

struct Stream {
    Context* ctx;
    bool legacy;    // the context's NULL stream
    bool blocking;  // synchronizes with the legacy stream (created without CU_STREAM_NON_BLOCKING)
    bool alive = true;
    std::deque<std::shared_ptr<Op>> queue;
    uint64_t queued = 0;  // position of the last op queued
    uint64_t done = 0;    // position of the last op finished
    uint64_t demand = 0;  // run ops up to here (set by whoever waits)
    // Capture.
    bool capturing = false;
    bool invalidated = false;
    int mode = CAPTURE_GLOBAL;
    std::thread::id capture_thread;
    Graph* graph = nullptr;
};

struct Event {
    Context* ctx;
    unsigned flags;
    bool alive = true;
    Stream* stream = nullptr;  // where it was last recorded
    uint64_t seq = 0;
    bool recorded = false;
    bool captured = false;  // last recorded inside a capture
    bool done = false;
    double millis = 0;
};

struct Function;

struct Module {
    Context* ctx;
    const KernelSet* kernels;
    bool alive = true;
    std::map<std::string, Function*> functions;
};

struct Function {
    Module* module;
    const KernelDef* def;
    int max_dynamic_shared = kDefaultDynamicShared;
};

struct Graph {
    Context* ctx;
    std::vector<Op> nodes;
};

struct GraphExec {
    Context* ctx;
    std::vector<Op> nodes;
};

struct Context {
    int device;
    int refs = 0;
    bool alive = true;
    int sticky = 0;          // CUresult every later call returns, once a kernel faulted
    std::string report;      // what faulted
    Stream* legacy = nullptr;
    std::set<Stream*> streams;  // including legacy
};

struct Driver {
    std::mutex mu;
    std::condition_variable device_wake;  // work was demanded
    std::condition_variable host_wake;    // work finished (or a context became sticky)
    bool initialized = false;
    int devices = 1;
    uint64_t seed = 0;
    uint64_t launches = 0;  // launches run so far (the executor's launch index)
    std::vector<Context*> primary;
    std::unordered_map<void*, int> live;  // every live handle and its kind, to answer CUDA_ERROR_INVALID_HANDLE
    std::string last_report;
    // Statistics for tests: launches, blocks, threads, graph launches, GEMMs, faults injected.
    uint64_t stats[6] = {};
};
extern Driver& g_driver;

// The calling thread's current context (cuCtxSetCurrent).
Context*& current_context();

// Queues (or, in a capturing stream, records) op on s. Caller holds g_driver.mu.
int submit(Stream* s, Op op, std::unique_lock<std::mutex>& lock);
// Blocks until s has finished everything up to seq, or its context became sticky. Caller holds the lock.
int wait_stream(Stream* s, uint64_t seq, std::unique_lock<std::mutex>& lock);
// Waits for every stream of ctx.
int wait_context(Context* ctx, std::unique_lock<std::mutex>& lock);
// Resolves a CUstream argument (NULL and CU_STREAM_LEGACY / PER_THREAD mean the legacy stream).
Stream* resolve_stream(Context* ctx, void* handle);
// Whether an API call that the capture rules call unsafe may run now; invalidates the captures it breaks.
int check_capture_unsafe();
void start_device_thread();
bool run_fault_rules_for_launch(const char* kernel, Fault* fault);

}  // namespace bkemu
