// Kernels that exist only to prove the emulator's checks (probes.cuh): loaded with the image "BKEMU:probes".
#include "probes.cuh"
#include "registry.h"

namespace {
const bkemu::KernelDef kDefs[] = {
#include "probe_kernels.inc"
};
}  // namespace

const bkemu::KernelSet bkemu::kProbeKernels{"probes", kDefs, sizeof kDefs / sizeof kDefs[0]};
