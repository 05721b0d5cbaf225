#!/usr/bin/env bash
# Bulkhead vs llama.cpp on the same GGUF files (decode and prefill tok/s per type), in one run.
#
#   [OUT=benchmarks/results/NAME] benchmarks/peer/run-llamacpp-peer.sh [LlamaCppPeerBench options...]
#   e.g. OUT=benchmarks/results/peer-avx2 benchmarks/peer/run-llamacpp-peer.sh --jvm-flags=-XX:UseAVX=2
#
# Builds llama.cpp on demand (never part of the test suite): the release that node-llama-cpp 3.22.1 ships
# as package/llama/gitRelease.bundle, fetched with `npm pack`, cloned, and built with cmake into
# $BULKHEAD_PEER_CACHE (default ~/.cache/bulkhead-peer). Builds the benchmarks jar when it is missing, then
# runs dev.bulkhead.bench.peer.LlamaCppPeerBench from the repository root.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
. "$ROOT/.mvn/find-jdk25.sh"   # exports JAVA_HOME (a JDK 25+)
CACHE="${BULKHEAD_PEER_CACHE:-$HOME/.cache/bulkhead-peer}"
NODE_LLAMA_CPP_VERSION="${NODE_LLAMA_CPP_VERSION:-3.22.1}"
JOBS="${JOBS:-$(nproc)}"
SRC="$CACHE/llama.cpp-node-llama-cpp-$NODE_LLAMA_CPP_VERSION"
BIN="$SRC/build/bin"
OUT="${OUT:-benchmarks/results/peer-llamacpp-stories110m}"   # writes $OUT.json and $OUT.md
TARGETS=(llama-bench llama-batched-bench llama-quantize llama-convert-llama2c-to-ggml)

build_llamacpp() {
  mkdir -p "$CACHE"
  if [ ! -d "$SRC/.git" ]; then
    local pack="$CACHE/npm-$NODE_LLAMA_CPP_VERSION"
    mkdir -p "$pack"
    if [ ! -f "$pack/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz" ]; then
      (cd "$pack" && npm pack --silent "node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >/dev/null)
    fi
    (cd "$pack" && rm -rf package && tar xzf "node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz")
    git clone --quiet "$pack/package/llama/gitRelease.bundle" "$SRC"
    rm -rf "$pack/package"
  fi
  local missing=0
  for t in "${TARGETS[@]}"; do [ -x "$BIN/$t" ] || missing=1; done
  if [ "$missing" = 1 ]; then
    cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_BUILD_SERVER=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_CURL=OFF >/dev/null
    cmake --build "$SRC/build" -j "$JOBS" --target "${TARGETS[@]}"
  fi
  echo "llama.cpp $(git -C "$SRC" rev-parse --short HEAD) in $BIN" >&2
}

build_llamacpp
JAR="$ROOT/benchmarks/target/bulkhead-benchmarks.jar"
# NOTE: built every time (Maven skips what is up to date): the results name HEAD's commit, so a jar left from an
# earlier build of other code would be measured under the wrong name.
(cd "$ROOT" && ./mvnw -B -o -q -pl benchmarks -am package -DskipTests)
cd "$ROOT"
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx2g \
  -cp "$JAR" dev.bulkhead.bench.peer.LlamaCppPeerBench --llama-bin "$BIN" \
  --out "$OUT.json" --markdown "$OUT.md" "$@"
