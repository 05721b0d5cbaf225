#!/usr/bin/env bash
# Builds the CUDA emulator library (libbulkhead-cuemu.so) with the system C++ compiler; Maven runs this in
# generate-resources. Usage: build-emulator.sh OUTPUT_DIR [CXX]
#   - the kernels are cuda-kernels/src/main/cuda/bulkhead.cu, compiled as C++ with BK_EMULATOR defined;
#   - the kernel translation units get -fsanitize=kernel-address with outline checks, which only makes every
#     load and store call __asan_{load,store}N_noabort: the emulator's own memcheck (no ASan runtime is used);
#   - the table of kernels is generated from the sources' extern "C" __global__ definitions.
# Without a compiler it prints why and exits 0, so a build without one goes on (the CUDA path then has no
# emulator, as a build without nvcc has no fatbin).
set -euo pipefail
out="${1:?usage: build-emulator.sh OUTPUT_DIR [CXX]}"
cxx="${2:-${CXX:-g++}}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/src/main/cpp"
kernels="$here/../cuda-kernels/src/main/cuda"
probes="$here/src/main/cuda"
lib="$out/libbulkhead-cuemu.so"

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "[WARNING] CUDA emulator NOT built: no C++ compiler '$cxx' (install g++, e.g. apt-get install g++);" \
       "--device cuda-emulator and the emulated GPU tests are unavailable in this build." >&2
  rm -f "$lib"
  exit 0
fi

# Up to date when the library is newer than every input.
if [ -f "$lib" ] && [ -z "$(find "$src" "$kernels" "$probes" "$0" -newer "$lib" -type f -print -quit)" ]; then
  exit 0
fi

mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

list_kernels() {  # the extern "C" __global__ functions of the given sources, as BKEMU_KERNEL(name) lines
  sed -n 's/^extern "C" __global__ void \([A-Za-z_][A-Za-z0-9_]*\)(.*/BKEMU_KERNEL(\1),/p' "$@"
}
list_kernels "$kernels"/*.cuh > "$work/bulkhead_kernels.inc"
list_kernels "$probes"/*.cuh > "$work/probe_kernels.inc"
[ -s "$work/bulkhead_kernels.inc" ] || { echo "no kernels found in $kernels" >&2; exit 1; }

common=(-std=c++20 -O2 -fPIC -g0 -Wall -Wno-unknown-pragmas -Wno-unused-variable
        -Wno-unused-function -Wno-sign-compare -I"$src" -I"$kernels" -I"$probes" -I"$work")
instrument=(-DBK_EMULATOR -fsanitize=kernel-address --param asan-instrumentation-with-call-threshold=0
            --param asan-stack=0 --param asan-globals=0 -fno-builtin-memcpy -fno-builtin-memset)
pids=()
for f in executor memory streams driver stream_api module_api graph_api cublas fiber; do
  "$cxx" "${common[@]}" -c "$src/$f.cpp" -o "$work/$f.o" & pids+=($!)
done
for f in kernels probe_kernels; do
  "$cxx" "${common[@]}" "${instrument[@]}" -c "$src/$f.cpp" -o "$work/$f.o" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

# NOTE: libstdc++ and libgcc are linked in, so the library loads on machines with another (or no) g++.
"$cxx" -shared -o "$work/libbulkhead-cuemu.so" "$work"/*.o -static-libstdc++ -static-libgcc -pthread \
  -Wl,--no-undefined -Wl,-z,noexecstack -Wl,--version-script="$src/exports.map"
mv "$work/libbulkhead-cuemu.so" "$lib"
echo "CUDA emulator built: $lib"
