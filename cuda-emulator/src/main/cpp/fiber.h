// Fibers for the executor: one per CUDA thread of the running block, switched in user space. x86-64 uses a
// six-register switch (plus MXCSR and the x87 control word), far cheaper than swapcontext, which makes a
// signal-mask system call on every switch; other architectures fall back to ucontext.
#pragma once
#include <stddef.h>

namespace bkemu {

struct FiberContext;

// Saves the running context into *from and resumes to.
void fiber_switch(FiberContext** from, FiberContext* to);

// Prepares a fiber on [stack_lo, stack_hi) that will call entry(arg) when first switched to. entry must never
// return: it ends by switching away for good.
FiberContext* fiber_make(char* stack_lo, char* stack_hi, void (*entry)(void*), void* arg);

}  // namespace bkemu
