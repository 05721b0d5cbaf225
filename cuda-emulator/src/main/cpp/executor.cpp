// Runs a launch: block after block on the device thread, every CUDA thread of a block on its own fiber.
//
// Between synchronization points each thread runs alone, in an order drawn afresh after every barrier from
// the launch's seed (warps in a random order, each warp's lanes in a random order, a warp's lanes run together
// so its shuffles stay in cache), so a missing __syncthreads or a shared-memory race reads poisoned or stale
// values and changes results. A thread that blocks switches straight to the next one to run. __syncthreads releases only when every thread of the block waits at the same barrier; a
// warp collective (__shfl*_sync, __syncwarp) completes only when every lane of its mask has arrived at the same
// call. Anything else (a thread that exits while others wait, lanes at different calls, a mask naming a lane
// that never comes) is reported like compute-sanitizer's synccheck instead of hanging. Every memory access of
// the kernel code (compiled with -fsanitize=kernel-address, which turns each access into a call below) is
// checked against device allocations, shared memory and the thread's own stack, as memcheck does.
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <algorithm>
#include <string>

#include "emu.h"
#include "fiber.h"

extern "C" {
bkemu_kernel_view bkemu_view;
extern char __start_bkemu_shared[] __attribute__((weak));
extern char __stop_bkemu_shared[] __attribute__((weak));
}

namespace bkemu {
namespace {

constexpr size_t kStackBytes = 64 * 1024;
constexpr size_t kPage = 4096;

enum State : unsigned char { NOT_STARTED, READY, AT_BARRIER, AT_WARP, EXITED };

struct Thread {
    FiberContext* ctx;
    char* stack_lo;
    char* stack_hi;
    State state;
    int warp;
    int lane;
    const char* file;  // where it waits
    int line;
    unsigned long long shfl_result;
};

enum WarpOp : int { OP_SHFL, OP_SYNCWARP, OP_CALL };

struct Warp {
    unsigned int lanes;    // lanes that exist in this block
    unsigned int arrived;  // lanes waiting in the current collective
    unsigned int mask;
    int op;
    const char* file;
    int line;
    int mode[32], arg[32], width[32];
    unsigned long long value[32];
    void* data[32];                       // OP_CALL: each lane's operand
    void (*call)(void* const* data, unsigned int lanes);  // OP_CALL: run by the last lane to arrive
};

struct Xorshift {
    uint64_t s;
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};

uint64_t splitmix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// State of the block being run. Only the device thread touches it.
struct Exec {
    const Launch* launch = nullptr;
    uint64_t seed = 0;
    bkemu_dim3 block_index{};
    Thread threads[kMaxThreadsPerBlock];
    bkemu_dim3 tids[kMaxThreadsPerBlock];
    Warp warps_state[kMaxThreadsPerBlock / 32];
    int warp_order[kMaxThreadsPerBlock / 32];  // this round's warp order
    int lane_order[32];                         // this round's lane order (each warp's lanes run in it)
    int warps = 0;
    int cursor_warp = 0;  // index into warp_order of the warp now running
    int cursor_lane = 0;  // index into lane_order of the lane that ran last
    bool new_round = false;
    int n = 0;
    int exited = 0;
    int at_barrier = 0;
    Thread* current = nullptr;
    FiberContext* scheduler = nullptr;
    bool aborted = false;
    Fault* fault = nullptr;
    Xorshift rng{1};
    char* stacks[kMaxThreadsPerBlock] = {};
    char* dynamic_shared = nullptr;  // kMaxSharedPerBlockOptin bytes, followed by a guard page
    size_t dynamic_bytes = 0;
};
Exec g;

std::string dim(const bkemu_dim3& d) {
    char b[64];
    snprintf(b, sizeof b, "(%u,%u,%u)", d.x, d.y, d.z);
    return b;
}

std::string where(const char* file, int line) {
    const char* slash = file ? strrchr(file, '/') : nullptr;
    return std::string(slash ? slash + 1 : (file ? file : "?")) + ":" + std::to_string(line);
}

std::string thread_name(const Thread* t) {
    return "thread " + dim(g.tids[t - g.threads]) + " block " + dim(g.block_index);
}

std::string context_line() {
    return " (kernel " + std::string(g.launch->kernel->name) + ", grid " + dim(g.launch->grid) + ", block " +
           dim(g.launch->block) + "; emulator seed " + std::to_string(g.seed) + ", launch #" +
           std::to_string(g.launch->launch_index) + ")";
}

// Records the block's first error and marks it aborted; the scheduler stops at its next turn.
__attribute__((noinline, cold)) void fail(int code, const std::string& text) {
    if (!g.aborted) {
        g.aborted = true;
        g.fault->code = code;
        g.fault->text = text + context_line();
    }
}

Thread* next_ready();
void start_if_new(Thread* t);

// Leaves the running fiber for the next thread to run (or the scheduler, at the end of a round); returns
// when something resumes it.
void yield_to_scheduler(Thread* t) {
    Thread* next = g.aborted || g.new_round ? nullptr : next_ready();
    if (next == nullptr) {
        fiber_switch(&t->ctx, g.scheduler);
        return;
    }
    if (next == t) return;
    start_if_new(next);
    g.current = next;
    bkemu_view.tid = &g.tids[next - g.threads];
    fiber_switch(&t->ctx, next->ctx);
}

// A thread that faulted or finished never runs again: its fiber is abandoned (nothing on a kernel's stack
// needs unwinding) and the next thread runs.
[[noreturn]] void abort_thread() {
    FiberContext* dead = nullptr;
    Thread* next = g.aborted || g.new_round ? nullptr : next_ready();
    if (next == nullptr) {
        fiber_switch(&dead, g.scheduler);
    } else {
        start_if_new(next);
        g.current = next;
        bkemu_view.tid = &g.tids[next - g.threads];
        fiber_switch(&dead, next->ctx);
    }
    __builtin_unreachable();
}

void fiber_main(void* arg) {
    Thread* t = static_cast<Thread*>(arg);
    const KernelDef* k = g.launch->kernel;
    k->invoke(k->fn, g.launch->params.data());
    t->state = EXITED;
    g.exited++;
    Warp& w = g.warps_state[t->warp];
    if (w.arrived != 0 && (w.mask & (1u << t->lane))) {
        fail(ERROR_LAUNCH_FAILED, "Warp error: " + thread_name(t) + " exited while lanes 0x" +
                                      hex(w.arrived).substr(2) + " of its warp wait for it at " +
                                      (w.op == OP_SHFL ? "a warp shuffle" : "__syncwarp") + " (" +
                                      where(w.file, w.line) + ", mask " + hex(w.mask) + ")");
    } else if (g.at_barrier > 0 && g.at_barrier + g.exited == g.n) {
        const Thread* waiting = nullptr;
        for (int i = 0; i < g.n && !waiting; i++) {
            if (g.threads[i].state == AT_BARRIER) waiting = &g.threads[i];
        }
        fail(ERROR_LAUNCH_FAILED, "Barrier error: __syncthreads at " + where(waiting->file, waiting->line) +
                                      " is reached by " + std::to_string(g.at_barrier) + " of " +
                                      std::to_string(g.n) + " threads; " + thread_name(t) + " and " +
                                      std::to_string(g.exited - 1) + " other(s) exited without reaching it");
    }
    abort_thread();
}

char* stack_for(int i) {
    if (g.stacks[i] == nullptr) {
        void* m = mmap(nullptr, kStackBytes + kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            fprintf(stderr, "bulkhead CUDA emulator: cannot map a fiber stack\n");
            abort();
        }
        mprotect(m, kPage, PROT_NONE);  // NOTE: a guard page below each stack turns an overflow into a crash
        g.stacks[i] = static_cast<char*>(m) + kPage;
    }
    return g.stacks[i];
}

void poison_shared() {
    if (+__start_bkemu_shared != nullptr && +__stop_bkemu_shared > +__start_bkemu_shared) {
        memset(__start_bkemu_shared, 0xff, static_cast<size_t>(__stop_bkemu_shared - __start_bkemu_shared));
    }
    if (g.dynamic_bytes > 0) memset(g.dynamic_shared, 0xff, g.dynamic_bytes);
}

std::string deadlock_report() {
    std::string s = "Deadlock: no thread of block " + dim(g.block_index) + " can go on;";
    int barrier = 0;
    const Thread* at = nullptr;
    for (int i = 0; i < g.n; i++) {
        if (g.threads[i].state == AT_BARRIER) {
            barrier++;
            at = &g.threads[i];
        }
    }
    if (barrier > 0) {
        s += " " + std::to_string(barrier) + " thread(s) wait at __syncthreads (" + where(at->file, at->line) + ");";
    }
    for (int w = 0; w < (g.n + 31) / 32; w++) {
        const Warp& wp = g.warps_state[w];
        if (wp.arrived == 0) continue;
        s += " warp " + std::to_string(w) + " waits at " + (wp.op == OP_SHFL ? "a shuffle" : "__syncwarp") + " (" +
             where(wp.file, wp.line) + ", mask " + hex(wp.mask) + ") for lanes";
        for (int l = 0; l < 32; l++) {
            if ((wp.mask & ~wp.arrived) & (1u << l)) {
                const Thread& t = g.threads[w * 32 + l];
                s += " " + std::to_string(l) + (t.state == EXITED ? "(exited)" : t.state == AT_BARRIER ? "(at __syncthreads)" : "(at another collective)");
            }
        }
        s += ";";
    }
    s += " " + std::to_string(g.exited) + " thread(s) exited";
    return s;
}

void start_if_new(Thread* t) {
    if (t->state != NOT_STARTED) return;
    const int i = static_cast<int>(t - g.threads);
    t->stack_lo = stack_for(i);
    // NOTE: stack tops staggered by 64 bytes per thread, so they do not all map to one cache set.
    t->stack_hi = t->stack_lo + kStackBytes - 64 * (i % 64);
    t->ctx = fiber_make(t->stack_lo, t->stack_hi, fiber_main, t);
    t->state = READY;
}

// The next thread of this round that can run: the running warp's lanes first (cycling through the lane
// order), then the warps after it in the warp order. A warp left behind cannot become runnable again
// before a barrier releases, which starts a new round.
Thread* next_ready() {
    for (; g.cursor_warp < g.warps; g.cursor_warp++, g.cursor_lane = -1) {
        const int w = g.warp_order[g.cursor_warp];
        const int lanes = std::min(32, g.n - w * 32);
        for (int step = 1; step <= 32; step++) {
            const int li = (g.cursor_lane + step) & 31;
            const int lane = g.lane_order[li];
            if (lane >= lanes) continue;
            Thread* t = &g.threads[w * 32 + lane];
            if (t->state == READY || t->state == NOT_STARTED) {
                g.cursor_lane = li;
                return t;
            }
        }
    }
    return nullptr;
}

void shuffle(int* a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = static_cast<int>(g.rng.next() % static_cast<uint64_t>(i + 1));
        std::swap(a[i], a[j]);
    }
}

bool run_block() {
    const int n = g.n;
    for (int i = 0; i < n; i++) {
        Thread& t = g.threads[i];
        t.state = NOT_STARTED;
        t.warp = i / 32;
        t.lane = i % 32;
    }
    g.warps = (n + 31) / 32;
    for (int w = 0; w < g.warps; w++) {
        Warp& wp = g.warps_state[w];
        wp.arrived = 0;
        int lanes = std::min(32, n - w * 32);
        wp.lanes = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
        g.warp_order[w] = w;
    }
    for (int l = 0; l < 32; l++) g.lane_order[l] = l;
    g.exited = 0;
    g.at_barrier = 0;
    poison_shared();
    for (;;) {
        shuffle(g.warp_order, g.warps);
        shuffle(g.lane_order, 32);
        g.cursor_warp = 0;
        g.cursor_lane = -1;
        g.new_round = false;
        Thread* t = next_ready();
        if (t != nullptr) {
            start_if_new(t);
            g.current = t;
            bkemu_view.tid = &g.tids[t - g.threads];
            fiber_switch(&g.scheduler, t->ctx);
            g.current = nullptr;
        }
        if (g.aborted) return false;
        if (g.exited == n) return true;
        if (!g.new_round) {
            fail(ERROR_LAUNCH_FAILED, deadlock_report());
            return false;
        }
    }
}

// Called by the last thread to arrive: every live thread waits here, so release them all (or report why not).
void release_barrier(const Thread* last) {
    if (g.exited > 0) {
        fail(ERROR_LAUNCH_FAILED, "Barrier error: __syncthreads at " + where(last->file, last->line) +
                                      " is reached by " + std::to_string(g.at_barrier) + " of " +
                                      std::to_string(g.n) + " threads; " + std::to_string(g.exited) +
                                      " exited without reaching it");
        return;
    }
    for (int i = 0; i < g.n; i++) {
        const Thread& t = g.threads[i];
        if (t.line != last->line || t.file != last->file) {
            fail(ERROR_LAUNCH_FAILED, "Barrier error: divergent __syncthreads: " + thread_name(&t) + " waits at " +
                                          where(t.file, t.line) + ", " + thread_name(last) + " at " +
                                          where(last->file, last->line));
            return;
        }
    }
    for (int i = 0; i < g.n; i++) g.threads[i].state = READY;
    g.at_barrier = 0;
    g.new_round = true;
}

int source_lane(int lane, int mode, int arg, int width) {
    const int base = lane & ~(width - 1);
    switch (mode) {
        case BKEMU_SHFL_IDX:
            return base + (arg & (width - 1));
        case BKEMU_SHFL_XOR: {
            const int s = lane ^ arg;
            return (s & ~(width - 1)) > base ? lane : s;  // NOTE: a later group's lane gives the caller's own value
        }
        case BKEMU_SHFL_UP:
            return lane - arg < base ? lane : lane - arg;
        default:
            return lane + arg >= base + width ? lane : lane + arg;
    }
}

const char* op_name(int op, int mode) {
    if (op == OP_SYNCWARP) return "__syncwarp";
    if (op == OP_CALL) return "a warp-wide matrix operation (wmma)";
    static const char* names[] = {"__shfl_sync", "__shfl_xor_sync", "__shfl_up_sync", "__shfl_down_sync"};
    return names[mode & 3];
}

// Why a lane cannot take part in a warp collective (built only when it cannot).
__attribute__((noinline, cold)) void warp_error(int kind, const Thread* t, const Warp& w, int op, unsigned int mask, int mode,
                                                int width, const char* file, int line, int lane = 0, int src = 0) {
    switch (kind) {
        case 0:
            fail(ERROR_LAUNCH_FAILED, "Warp error: " + thread_name(t) + " calls " + op_name(op, mode) + " at " +
                                          where(file, line) + " with mask " + hex(mask) +
                                          ", which does not name its lane " + std::to_string(t->lane));
            break;
        case 1:
            fail(ERROR_LAUNCH_FAILED, "Warp error: mask " + hex(mask) + " of " + op_name(op, mode) + " at " +
                                          where(file, line) + " names lanes that do not exist (the warp has lanes " +
                                          hex(w.lanes) + ")");
            break;
        case 2:
            fail(ERROR_LAUNCH_FAILED, "Warp error: width " + std::to_string(width) + " of " + op_name(op, mode) +
                                          " at " + where(file, line) + " is not a power of 2 up to 32");
            break;
        case 3: {
            const int first = __builtin_ctz(w.arrived);
            fail(ERROR_LAUNCH_FAILED, "Warp error: lanes of warp " + std::to_string(t->warp) + " diverge: lane " +
                                          std::to_string(first) + " waits at " + op_name(w.op, w.mode[first]) + " (" +
                                          where(w.file, w.line) + ", mask " + hex(w.mask) + "), lane " +
                                          std::to_string(t->lane) + " calls " + op_name(op, mode) + " (" +
                                          where(file, line) + ", mask " + hex(mask) + ")");
            break;
        }
        default:
            fail(ERROR_LAUNCH_FAILED, "Warp error: lane " + std::to_string(lane) + " of " + op_name(op, w.mode[lane]) +
                                          " at " + where(file, line) + " reads lane " + std::to_string(src) +
                                          ", which is not in mask " + hex(mask) + " (undefined on a GPU)");
    }
    abort_thread();
}

unsigned long long warp_collective(int op, unsigned int mask, unsigned long long value, int mode, int arg, int width,
                                   const char* file, int line, uintptr_t arg_call = 0) {
    Thread* t = g.current;
    Warp& w = g.warps_state[t->warp];
    const unsigned int me = 1u << t->lane;
    if (!(mask & me)) warp_error(0, t, w, op, mask, mode, width, file, line);
    if (mask & ~w.lanes) warp_error(1, t, w, op, mask, mode, width, file, line);
    if (op == OP_SHFL && (width < 1 || width > 32 || (width & (width - 1)) != 0)) {
        warp_error(2, t, w, op, mask, mode, width, file, line);
    }
    if (w.arrived == 0) {
        w.mask = mask;
        w.op = op;
        w.file = file;
        w.line = line;
    } else if (w.mask != mask || w.op != op || w.line != line || w.file != file || w.mode[__builtin_ctz(w.arrived)] != mode) {
        warp_error(3, t, w, op, mask, mode, width, file, line);
    }
    if (op == OP_CALL) {
        w.data[t->lane] = reinterpret_cast<void*>(value);
        w.call = reinterpret_cast<void (*)(void* const*, unsigned int)>(static_cast<uintptr_t>(arg_call));
    }
    w.value[t->lane] = value;
    w.mode[t->lane] = mode;
    w.arg[t->lane] = arg;
    w.width[t->lane] = width;
    w.arrived |= me;
    // A lane of the mask that already exited can never arrive: the same error as when it exits while others wait,
    // whichever order the scheduler happened to pick.
    for (unsigned int m = mask & ~w.arrived; m != 0; m &= m - 1) {
        const Thread& gone = g.threads[t->warp * 32 + __builtin_ctz(m)];
        if (gone.state == EXITED) {
            fail(ERROR_LAUNCH_FAILED, "Warp error: " + thread_name(&gone) + " exited while lanes 0x" +
                                          hex(w.arrived).substr(2) + " of its warp wait for it at " +
                                          (op == OP_SHFL ? "a warp shuffle" : "__syncwarp") + " (" + where(file, line) +
                                          ", mask " + hex(mask) + ")");
        }
    }
    if (w.arrived != mask) {
        t->state = AT_WARP;
        t->file = file;
        t->line = line;
        yield_to_scheduler(t);
        return t->shfl_result;
    }
    // Every lane of the mask is here: exchange, then release the others.
    if (op == OP_CALL) {
        // NOTE: the last lane computes for all: one warp-wide result from every lane's share, as a tensor core does.
        w.call(w.data, mask);
    }
    unsigned long long mine = 0;
    for (unsigned int m = mask; m != 0; m &= m - 1) {
        const int lane = __builtin_ctz(m);
        Thread& lt = g.threads[t->warp * 32 + lane];
        unsigned long long r = 0;
        if (op == OP_SHFL) {
            const int src = source_lane(lane, w.mode[lane], w.arg[lane], w.width[lane]);
            if (src < 0 || src > 31 || !(mask & (1u << src))) warp_error(4, t, w, op, mask, mode, width, file, line, lane, src);
            r = w.value[src];
        }
        if (&lt == t) {
            mine = r;
        } else {
            lt.shfl_result = r;
            lt.state = READY;
        }
    }
    w.arrived = 0;
    return mine;
}

}  // namespace

bool execute(const Launch& launch, uint64_t seed, Fault* fault) {
    if (g.dynamic_shared == nullptr) {
        size_t bytes = kMaxSharedPerBlockOptin + kPage;
        void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            fprintf(stderr, "bulkhead CUDA emulator: cannot map shared memory\n");
            abort();
        }
        g.dynamic_shared = static_cast<char*>(m);
        mprotect(g.dynamic_shared + kMaxSharedPerBlockOptin, kPage, PROT_NONE);
    }
    g.launch = &launch;
    g.seed = seed;
    g.fault = fault;
    g.aborted = false;
    g.rng.s = splitmix(seed ^ splitmix(launch.launch_index)) | 1u;
    g.dynamic_bytes = static_cast<size_t>(launch.dynamic_shared);
    g.n = static_cast<int>(launch.block.x * launch.block.y * launch.block.z);
    for (unsigned z = 0, i = 0; z < launch.block.z; z++) {
        for (unsigned y = 0; y < launch.block.y; y++) {
            for (unsigned x = 0; x < launch.block.x; x++, i++) g.tids[i] = bkemu_dim3{x, y, z};
        }
    }
    bkemu_view.bdim = launch.block;
    bkemu_view.gdim = launch.grid;
    bkemu_view.dynamic_shared = g.dynamic_shared;
    for (unsigned z = 0; z < launch.grid.z; z++) {
        for (unsigned y = 0; y < launch.grid.y; y++) {
            for (unsigned x = 0; x < launch.grid.x; x++) {
                g.block_index = bkemu_dim3{x, y, z};
                bkemu_view.bid = g.block_index;
                if (!run_block()) return false;
            }
        }
    }
    return true;
}

// The check behind every memory access of kernel code.
void kernel_access_fault(uintptr_t address, size_t size, bool write, const char* why) {
    std::string space = address - reinterpret_cast<uintptr_t>(g.dynamic_shared) < kMaxSharedPerBlockOptin + kPage
                                ? "__shared__"
                                : "__global__";
    fail(ERROR_ILLEGAL_ADDRESS, "Invalid " + space + (write ? " write" : " read") + " of size " +
                                    std::to_string(size) + " bytes at " + hex(address) + " by " +
                                    thread_name(g.current) + ": " + why);
    abort_thread();
}

namespace {

__attribute__((always_inline)) inline void check_access(uintptr_t a, size_t n, bool write) {
    const Thread* t = g.current;
    if (t == nullptr) return;  // NOTE: instrumented code outside a kernel (static initializers) is not checked
    const uintptr_t off = a - g_space.base;
    if (off < g_space.span) {
        const uint32_t idx = g_space.owner[off >> kGranuleShift].load(std::memory_order_acquire);
        if (idx != 0) {
            const Allocation& al = g_space.allocs[idx - 1];
            if (al.live && a + n <= al.start + al.size) return;
        }
        kernel_access_fault(a, n, write, memory_describe(a, n).c_str());
    }
    const uintptr_t view = reinterpret_cast<uintptr_t>(&bkemu_view);
    if (a - view < sizeof bkemu_view) return;
    const uintptr_t tids = reinterpret_cast<uintptr_t>(g.tids);
    if (a - tids < sizeof g.tids) return;
    const uintptr_t dyn = reinterpret_cast<uintptr_t>(g.dynamic_shared);
    if (a - dyn < kMaxSharedPerBlockOptin + kPage) {
        if (a + n <= dyn + g.dynamic_bytes) return;
        kernel_access_fault(a, n, write,
                            ("past the launch's " + std::to_string(g.dynamic_bytes) + " bytes of dynamic shared memory (offset " +
                             std::to_string(a - dyn) + ")").c_str());
    }
    if (a >= reinterpret_cast<uintptr_t>(__start_bkemu_shared) && a + n <= reinterpret_cast<uintptr_t>(__stop_bkemu_shared)) return;
    if (a >= reinterpret_cast<uintptr_t>(t->stack_lo) && a + n <= reinterpret_cast<uintptr_t>(t->stack_hi)) return;
    if (pinned_contains(a, n)) return;
    kernel_access_fault(a, n, write, "the address is not in device memory, shared memory, or page-locked host memory");
}

}  // namespace
}  // namespace bkemu

using bkemu::check_access;

// The calls -fsanitize=kernel-address --param asan-instrumentation-with-call-threshold=0 makes for every load
// and store in the kernel translation units.
extern "C" {
#define BKEMU_ACCESS(n)                                                         \
    void __asan_load##n##_noabort(uintptr_t a) { check_access(a, n, false); }  \
    void __asan_store##n##_noabort(uintptr_t a) { check_access(a, n, true); }
BKEMU_ACCESS(1)
BKEMU_ACCESS(2)
BKEMU_ACCESS(4)
BKEMU_ACCESS(8)
BKEMU_ACCESS(16)
void __asan_loadN_noabort(uintptr_t a, size_t n) { check_access(a, n, false); }
void __asan_storeN_noabort(uintptr_t a, size_t n) { check_access(a, n, true); }
void __asan_handle_no_return() {}
void __asan_before_dynamic_init(const char*) {}
void __asan_after_dynamic_init() {}

void bkemu_syncthreads(const char* file, int line) {
    using namespace bkemu;
    Thread* t = g.current;
    t->state = AT_BARRIER;
    t->file = file;
    t->line = line;
    g.at_barrier++;
    if (g.at_barrier + g.exited == g.n) release_barrier(t);
    // NOTE: even the last to arrive yields, so the order after the barrier is drawn afresh too.
    yield_to_scheduler(t);
    if (g.aborted) abort_thread();
}

// A warp-wide operation over every lane's operand (wmma): call(data, mask) runs once, on the last lane to
// arrive, with each lane's pointer in data[lane]; then every lane goes on.
void bkemu_warp_call(unsigned int mask, void* data, void (*call)(void* const* data, unsigned int lanes),
                     const char* file, int line) {
    bkemu::warp_collective(bkemu::OP_CALL, mask, reinterpret_cast<uintptr_t>(data), 0, 0, 32, file, line,
                           reinterpret_cast<uintptr_t>(call));
}

void bkemu_misaligned(const void* p, const char* what) {
    using namespace bkemu;
    fail(ERROR_MISALIGNED_ADDRESS, std::string("Misaligned address: ") + what + " at " +
                                       hex(reinterpret_cast<uintptr_t>(p)) + " by " + thread_name(g.current) +
                                       " (its pointer must be 32-byte aligned)");
    abort_thread();
}

void bkemu_syncwarp(unsigned int mask, const char* file, int line) {
    bkemu::warp_collective(bkemu::OP_SYNCWARP, mask, 0, 0, 0, 32, file, line);
}

unsigned long long bkemu_shfl(unsigned int mask, unsigned long long bits, int mode, int arg, int width,
                              const char* file, int line) {
    return bkemu::warp_collective(bkemu::OP_SHFL, mask, bits, mode, arg, width, file, line);
}
}
