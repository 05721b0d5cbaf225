// Device memory: one reserved, inaccessible address range; each cuMemAlloc maps a fresh granule-aligned piece
// of it, filled with 0xff bytes (NaN as float or bf16, -1 as int: cuMemAlloc gives no zeroed memory and a
// kernel that assumes it should fail visibly). A freed piece is unmapped and its address range is not reused
// until the range wraps around, so a late access through a stale pointer is reported as a use after free.
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <map>
#include <mutex>

#include "emu.h"

namespace bkemu {

DeviceSpace g_space;

namespace {

constexpr size_t kGranule = size_t{1} << kGranuleShift;
constexpr size_t kMaxAllocations = size_t{1} << 20;

struct MemoryState {
    std::mutex mu;
    size_t total = 0;
    size_t used = 0;
    uintptr_t next = 0;    // bump pointer (granule aligned)
    uint32_t records = 0;  // allocation records handed out (record i has index i + 1 in the owner table)
    uint64_t serial = 0;
    bool poison = true;
    std::map<uintptr_t, size_t> pinned;       // page-locked host allocations: start -> size
    std::map<uintptr_t, void*> pinned_owner;  // start -> context
};
MemoryState m;

size_t granules(size_t bytes) { return (bytes + kGranule - 1) >> kGranuleShift; }

// First granule-aligned run of free address space of `need` bytes at or after the bump pointer, wrapping
// around once; 0 when there is none.
uintptr_t find_space(size_t need) {
    const uintptr_t end = g_space.base + g_space.span;
    for (int pass = 0; pass < 2; pass++) {
        uintptr_t at = pass == 0 ? m.next : g_space.base;
        const uintptr_t stop = pass == 0 ? end : m.next;
        while (at + need <= stop) {
            bool free_run = true;
            for (size_t gi = 0; gi < (need >> kGranuleShift); gi++) {
                const uint32_t idx = g_space.owner[((at - g_space.base) >> kGranuleShift) + gi].load(std::memory_order_relaxed);
                if (idx != 0 && g_space.allocs[idx - 1].live) {
                    const Allocation& a = g_space.allocs[idx - 1];
                    at = a.start + (granules(a.size) << kGranuleShift);
                    free_run = false;
                    break;
                }
            }
            if (free_run) return at;
        }
    }
    return 0;
}

}  // namespace

std::string hex(uintptr_t v) {
    char b[32];
    snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

void memory_init(size_t device_bytes) {
    std::lock_guard<std::mutex> lock(m.mu);
    if (g_space.base != 0) return;
    m.total = device_bytes;
    // NOTE: four times the device size, so that freed ranges stay unmapped (use-after-free detection) for a
    // long while before the bump pointer wraps around and reuses them.
    g_space.span = (granules(device_bytes) << kGranuleShift) * 4;
    void* base = mmap(nullptr, g_space.span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        fprintf(stderr, "bulkhead CUDA emulator: cannot reserve %zu bytes of address space\n", g_space.span);
        abort();
    }
    g_space.owner = new std::atomic<uint32_t>[g_space.span >> kGranuleShift]();
    g_space.allocs = static_cast<Allocation*>(calloc(kMaxAllocations, sizeof(Allocation)));
    m.next = reinterpret_cast<uintptr_t>(base);
    const char* poison = getenv("BULKHEAD_CUEMU_POISON");
    m.poison = poison == nullptr || strcmp(poison, "0") != 0;
    g_space.base = reinterpret_cast<uintptr_t>(base);
}

size_t memory_total() { return m.total; }

size_t memory_used() {
    std::lock_guard<std::mutex> lock(m.mu);
    return m.used;
}

bool memory_poison_enabled() { return m.poison; }

uintptr_t memory_alloc(size_t bytes, void* context) {
    std::lock_guard<std::mutex> lock(m.mu);
    const size_t need = granules(bytes) << kGranuleShift;
    if (bytes == 0 || m.used + bytes > m.total || m.records >= kMaxAllocations) return 0;
    const uintptr_t at = find_space(need);
    if (at == 0) return 0;
    if (mprotect(reinterpret_cast<void*>(at), need, PROT_READ | PROT_WRITE) != 0) return 0;
    if (m.poison) memset(reinterpret_cast<void*>(at), 0xff, bytes);
    Allocation& a = g_space.allocs[m.records];
    a = Allocation{at, bytes, ++m.serial, context, true};
    const uint32_t idx = ++m.records;
    const size_t first = (at - g_space.base) >> kGranuleShift;
    for (size_t gi = 0; gi < (need >> kGranuleShift); gi++) {
        g_space.owner[first + gi].store(idx, std::memory_order_release);
    }
    m.used += bytes;
    m.next = at + need;
    return at;
}

bool memory_free(uintptr_t p) {
    std::lock_guard<std::mutex> lock(m.mu);
    const uintptr_t off = p - g_space.base;
    if (off >= g_space.span) return false;
    const uint32_t idx = g_space.owner[off >> kGranuleShift].load(std::memory_order_relaxed);
    if (idx == 0) return false;
    Allocation& a = g_space.allocs[idx - 1];
    if (!a.live || a.start != p) return false;
    a.live = false;
    m.used -= a.size;
    const size_t need = granules(a.size) << kGranuleShift;
    madvise(reinterpret_cast<void*>(a.start), need, MADV_DONTNEED);
    mprotect(reinterpret_cast<void*>(a.start), need, PROT_NONE);
    return true;
}

void memory_free_context(void* context) {
    std::vector<uintptr_t> starts;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        for (uint32_t i = 0; i < m.records; i++) {
            if (g_space.allocs[i].live && g_space.allocs[i].context == context) starts.push_back(g_space.allocs[i].start);
        }
    }
    for (uintptr_t s : starts) memory_free(s);
}

bool memory_valid(uintptr_t p, size_t n) {
    const uintptr_t off = p - g_space.base;
    if (off >= g_space.span) return false;
    const uint32_t idx = g_space.owner[off >> kGranuleShift].load(std::memory_order_acquire);
    if (idx == 0) return false;
    const Allocation& a = g_space.allocs[idx - 1];
    return a.live && p >= a.start && p + n <= a.start + a.size && p + n >= p;
}

std::string memory_describe(uintptr_t p, size_t n) {
    const uintptr_t off = p - g_space.base;
    if (off >= g_space.span) {
        return pinned_contains(p, n) ? "page-locked host memory" : "the address is not in device memory";
    }
    const uint32_t idx = g_space.owner[off >> kGranuleShift].load(std::memory_order_acquire);
    if (idx == 0) return "the address was never allocated";
    const Allocation& a = g_space.allocs[idx - 1];
    std::string which = "allocation #" + std::to_string(a.serial) + " at " + hex(a.start) + " of " +
                        std::to_string(a.size) + " bytes";
    if (!a.live) return "use after free: the address is in freed " + which;
    if (p + n > a.start + a.size) {
        return std::to_string(p + n - (a.start + a.size)) + " byte(s) past the end of " + which;
    }
    return "inside " + which;
}

void* pinned_alloc(size_t bytes, void* context) {
    void* p = mmap(nullptr, bytes == 0 ? 1 : bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    std::lock_guard<std::mutex> lock(m.mu);
    m.pinned[reinterpret_cast<uintptr_t>(p)] = bytes;
    m.pinned_owner[reinterpret_cast<uintptr_t>(p)] = context;
    return p;
}

bool pinned_free(void* p) {
    size_t bytes;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        auto it = m.pinned.find(reinterpret_cast<uintptr_t>(p));
        if (it == m.pinned.end()) return false;
        bytes = it->second;
        m.pinned.erase(it);
        m.pinned_owner.erase(reinterpret_cast<uintptr_t>(p));
    }
    munmap(p, bytes == 0 ? 1 : bytes);
    return true;
}

bool pinned_contains(uintptr_t p, size_t n) {
    std::lock_guard<std::mutex> lock(m.mu);
    auto it = m.pinned.upper_bound(p);
    if (it == m.pinned.begin()) return false;
    --it;
    return p >= it->first && p + n <= it->first + it->second;
}

void pinned_free_context(void* context) {
    std::vector<void*> mine;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        for (auto& e : m.pinned_owner) {
            if (e.second == context) mine.push_back(reinterpret_cast<void*>(e.first));
        }
    }
    for (void* p : mine) pinned_free(p);
}

}  // namespace bkemu
