// The one translation unit nvcc compiles into bulkhead.fatbin (sm_80, sm_90a SASS + compute_90 PTX).
// Each .cuh holds a family of extern "C" kernels; dev.bulkhead.kernels.KernelIndex lists them all with
// their parameter layouts, and a test checks that every listed name is in the built fatbin.
#include "embedding.cuh"
#include "rmsnorm.cuh"
#include "rope_kv.cuh"
#include "attention_decode.cuh"
#include "attention_prefill.cuh"
#include "attention_prefill_tc.cuh"
#include "activation.cuh"
#include "sampling.cuh"
#include "convert.cuh"
