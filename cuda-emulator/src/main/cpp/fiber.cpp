#include "fiber.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)

// bkemu_fiber_switch(void** save_sp, void* load_sp): pushes the callee-saved registers, stores the stack
// pointer, loads the other one and pops in reverse. NOTE: MXCSR and the x87 control word are not switched
// (ldmxcsr serializes and was half the cost of a switch): no kernel changes rounding modes.
asm(R"(
    .text
    .globl bkemu_fiber_switch
    .hidden bkemu_fiber_switch
    .type bkemu_fiber_switch,@function
bkemu_fiber_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size bkemu_fiber_switch,.-bkemu_fiber_switch

    .globl bkemu_fiber_start
    .hidden bkemu_fiber_start
    .type bkemu_fiber_start,@function
bkemu_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size bkemu_fiber_start,.-bkemu_fiber_start
)");

extern "C" void bkemu_fiber_switch(void** save_sp, void* load_sp);
extern "C" void bkemu_fiber_start();

namespace bkemu {

void fiber_switch(FiberContext** from, FiberContext* to) {
    bkemu_fiber_switch(reinterpret_cast<void**>(from), to);
}

FiberContext* fiber_make(char* stack_lo, char* stack_hi, void (*entry)(void*), void* arg) {
    (void)stack_lo;
    // The frame bkemu_fiber_switch pops: r15, r14, r13 (entry), r12 (arg), rbx, rbp, return address
    // (bkemu_fiber_start). After its ret the stack pointer is 16-byte aligned, so the call in
    // bkemu_fiber_start enters entry with the ABI's alignment.
    uintptr_t top = (reinterpret_cast<uintptr_t>(stack_hi) & ~uintptr_t{15}) - 16;
    uint64_t* sp = reinterpret_cast<uint64_t*>(top) - 7;
    sp[0] = 0;                                          // r15
    sp[1] = 0;                                          // r14
    sp[2] = reinterpret_cast<uint64_t>(entry);          // r13
    sp[3] = reinterpret_cast<uint64_t>(arg);            // r12
    sp[4] = 0;                                          // rbx
    sp[5] = 0;                                          // rbp
    sp[6] = reinterpret_cast<uint64_t>(&bkemu_fiber_start);
    return reinterpret_cast<FiberContext*>(sp);
}

}  // namespace bkemu

#else

#include <ucontext.h>

#include <deque>
#include <new>

namespace bkemu {

struct FiberContext {
    ucontext_t uc;
};

void fiber_switch(FiberContext** from, FiberContext* to) {
    // NOTE: *from must stay valid while suspended; each thread keeps one context object for its lifetime.
    thread_local std::deque<FiberContext> saved;
    if (*from == nullptr) {
        saved.emplace_back();
        *from = &saved.back();
    }
    swapcontext(&(*from)->uc, &to->uc);
}

static void trampoline(unsigned hi_fn, unsigned lo_fn, unsigned hi_arg, unsigned lo_arg) {
    auto fn = reinterpret_cast<void (*)(void*)>((static_cast<uintptr_t>(hi_fn) << 32) | lo_fn);
    void* arg = reinterpret_cast<void*>((static_cast<uintptr_t>(hi_arg) << 32) | lo_arg);
    fn(arg);
}

FiberContext* fiber_make(char* stack_lo, char* stack_hi, void (*entry)(void*), void* arg) {
    // NOTE: the context lives at the bottom of the fiber's own stack area, so a reused stack reuses it.
    auto* c = new (stack_lo) FiberContext;
    char* lo = stack_lo + ((sizeof(FiberContext) + 63) & ~size_t{63});
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = static_cast<size_t>(stack_hi - lo);
    c->uc.uc_link = nullptr;
    uintptr_t f = reinterpret_cast<uintptr_t>(entry), a = reinterpret_cast<uintptr_t>(arg);
    makecontext(&c->uc, reinterpret_cast<void (*)()>(trampoline), 4, static_cast<unsigned>(f >> 32),
                static_cast<unsigned>(f), static_cast<unsigned>(a >> 32), static_cast<unsigned>(a));
    return c;
}

}  // namespace bkemu

#endif
