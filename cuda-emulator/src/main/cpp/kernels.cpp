// The Bulkhead kernels for the emulator: bulkhead.cu itself, compiled by g++ with every memory access
// instrumented (see executor.cpp), and a table of its extern "C" __global__ functions that the build generates
// from the sources (bulkhead_kernels.inc), so the kernel sources stay the one list.
#include "bulkhead.cu"
#include "registry.h"

namespace {
const bkemu::KernelDef kDefs[] = {
#include "bulkhead_kernels.inc"
};
}  // namespace

const bkemu::KernelSet bkemu::kBulkheadKernels{"bulkhead", kDefs, sizeof kDefs / sizeof kDefs[0]};
