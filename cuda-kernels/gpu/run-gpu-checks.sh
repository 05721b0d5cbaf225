#!/usr/bin/env bash
# GPU checks of the CUDA backend, runnable on a GPU machine that has only a JDK 25 (no Maven, no registry).
#
#   1. Here, with Maven:   cuda-kernels/gpu/run-gpu-checks.sh prepare
#      builds native, cuda-kernels (with nvcc) and engine-java, and gathers every class directory and jar the
#      tests need, plus the JUnit console launcher, into cuda-kernels/target/gpu-bundle (about 40 MiB).
#   2. On the GPU machine: cuda-kernels/gpu/run-gpu-checks.sh run
#      runs every test tagged "gpu" in dev.bulkhead.ffi, dev.bulkhead.kernels and dev.bulkhead.engine.cuda and
#      writes JUnit XML to ${OUT:-cuda-kernels/target/gpu-reports}. Exit status is the launcher's.
#
# With the device tool, carry cuda-kernels/target/gpu-bundle and run:  cuda-kernels/gpu/run-gpu-checks.sh run
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="$root/cuda-kernels/target/gpu-bundle"

case "${1:-run}" in
  prepare)
    cd "$root"
    ./mvnw -B -q -o -pl engine-java -am install -DskipTests
    ./mvnw -B -q -o -pl engine-java test-compile
    ./mvnw -B -q -o -pl cuda-kernels,native test-compile
    rm -rf "$bundle" && mkdir -p "$bundle/lib" "$bundle/classes"
    ./mvnw -B -q -o -pl engine-java dependency:copy-dependencies -DincludeScope=test \
        -DexcludeGroupIds=dev.bulkhead -DoutputDirectory="$bundle/lib"
    ./mvnw -B -q -o -pl cuda-kernels dependency:copy-dependencies -DincludeScope=test \
        -DincludeArtifactIds=junit-platform-console-standalone -DoutputDirectory="$bundle/launcher"
    for m in native cuda-kernels models kvcache scheduler engine-java; do
      mkdir -p "$bundle/classes/$m"
      cp -r "$root/$m/target/classes" "$bundle/classes/$m/main"
      [ -d "$root/$m/target/test-classes" ] && cp -r "$root/$m/target/test-classes" "$bundle/classes/$m/test"
    done
    ls "$bundle/classes/cuda-kernels/main/dev/bulkhead/kernels/bulkhead.fatbin" >/dev/null \
      || { echo "no fatbin: build cuda-kernels with nvcc on PATH" >&2; exit 1; }
    du -sh "$bundle"
    ;;
  run)
    [ -d "$bundle" ] || { echo "no $bundle: run '$0 prepare' on a machine with Maven first" >&2; exit 2; }
    java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    if ! "$java_bin" -version 2>&1 | grep -q 'version "2[5-9]'; then
      for j in /usr/lib/jvm/*25*/bin/java; do [ -x "$j" ] && java_bin="$j" && break; done
    fi
    cp=""
    for d in "$bundle"/classes/*/*; do cp="$cp:$d"; done
    for j in "$bundle"/lib/*.jar; do cp="$cp:$j"; done  # NOTE: the launcher does not expand lib/*
    reports="${OUT:-$root/cuda-kernels/target/gpu-reports}"
    mkdir -p "$reports"
    nvidia-smi -L || true
    cd "$root/engine-java"  # NOTE: tests find ../shared and src/main/cuda relative to their module
    exec "$java_bin" -Xmx8g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
      -Dbulkhead.shared.dir="${BULKHEAD_SHARED_DIR:-$root/../shared}" -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
      -jar "$bundle"/launcher/junit-platform-console-standalone-*.jar execute \
      --class-path "${cp#:}" --include-tag gpu \
      --select-package dev.bulkhead.ffi --select-package dev.bulkhead.kernels --select-package dev.bulkhead.engine.cuda \
      --details tree --reports-dir "$reports"
    ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
