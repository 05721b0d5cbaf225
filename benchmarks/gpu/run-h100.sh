#!/usr/bin/env bash
# The first GPU run of the CUDA backend, in one command, within 10 minutes on one H100 whose image has CUDA, an
# NVIDIA driver, Python with torch and transformers, but NO JDK, NO package registry and NO network.
#
#   1. Here, with Maven and JDK 25:    benchmarks/gpu/run-h100.sh prepare
#      runs cuda-kernels/gpu/run-gpu-checks.sh prepare (a jlinked JDK 25 + the gpu tests' classes and jars:
#      cuda-kernels/target/gpu-bundle, ~40 MiB; BULKHEAD_H100_REUSE_CHECKS=1 keeps an existing one and only
#      compiles benchmarks), then packs benchmarks/target/h100-bundle/bench.tar.xz (~2 MiB): the benchmarks
#      module's classes and the Llama 3.1 tokenizer from ../shared/models/llama3.1-tokenizer (9 MiB, xz packs it
#      to ~1.5). Everything else the benchmarks need (engine, server for make-model, picocli, Jackson) is on the
#      tests module's class path inside the checks bundle, which the run reuses. prepare fails when the working
#      tree plus both bundles pass 63 MiB (the device tool carries 64 MiB in all).
#   2. On the GPU machine (bash, coreutils, tar, xz or python3; python3 with torch + transformers for the HF part):
#        benchmarks/gpu/run-h100.sh run [device|emulator]          (default: device)
#      With the device tool:
#        carry:   ["cuda-kernels/target/gpu-bundle", "benchmarks/target/h100-bundle"]
#        command: benchmarks/gpu/run-h100.sh run device
#        timeout_s: 600   (the script keeps to BULKHEAD_H100_BUDGET_S, 560 s, and always writes summary.json)
#
# What "run" does, in this order, each part its own JVM or process, timed against one deadline (a part that no
# longer fits is skipped and said so; a part that fails leaves the others running):
#   models     make-model writes random bf16 checkpoints of each shape (BULKHEAD_H100_SHAPES: llama-3.2-1b and
#              llama-3.1-8b, 2.3 + 15 GiB) with the Llama 3.1 tokenizer, in the background while the tests run,
#              under BULKHEAD_H100_WORK (a checkpoint already complete there is reused: a warm rerun saves ~1.5 min)
#   device     device.json (nvidia-smi and the CUDA bindings' view of device 0) and bandwidth.json (device-to-device
#              copy bandwidth through the project's FFM bindings, timed with CUDA events)
#   tests      the gpu test suite: cuda-kernels/gpu/run-gpu-checks.sh run device, BULKHEAD_H100_TESTS_S (150 s) at
#              most; its reports under $OUT/tests, condensed into tests.json
#   decode     batch-1 greedy decode on CudaModelRunner, eager and with CUDA graphs, and the % of the measured
#              bandwidth its weight reads represent: decode-SHAPE.json (every shape first: the targets)
#   batched    ThroughputBench --device cuda at 1, 8, 32, 128, 256 concurrent requests: batched-SHAPE.json
#   hf         HF transformers, bf16 on cuda, on the same checkpoint (benchmarks/gpu/hf_bench.py): hf-SHAPE.json
#              (batched and hf run largest shape first: the 8B comparison is a target)
#   summary    summary.json: the device, each part's status, the figures per shape, and the targets judged (only on
#              a device: on the emulator every "met" is null)
# Output ($OUT, default benchmarks/target/h100-results): parts.tsv, nvidia-smi.txt, device.json, bandwidth.json,
# tests.json + tests/, checkpoints.json, decode-*.json, batched-*.json, hf-*.json, summary.json, logs/*.log.
# Exit status: 0 when every part ran and succeeded, 1 otherwise (summary.json is written either way), 2 on misuse.
#
# Rehearsal without a GPU: "run emulator" runs the same parts on the CPU CUDA emulator (--device cuda-emulator):
# it proves the script and the JSON, never speed; every file says target "emulator". Use tiny shapes there:
#   BULKHEAD_H100_SHAPES=tiny-llama BULKHEAD_H100_PARTS=models,device,decode,batched OUT=/tmp/h100 \
#     benchmarks/gpu/run-h100.sh run emulator
# Build mode: BULKHEAD_H100_JAVA (a java) and BULKHEAD_H100_CLASSPATH (the benchmarks module's test class path)
# replace the bundles; the emulator test in benchmarks (H100ScriptGpuTest) runs the script that way in every build.
#
# Environment (defaults for the H100): BULKHEAD_H100_PARTS (tests,models,device,decode,batched,hf),
# BULKHEAD_H100_SHAPES, BULKHEAD_H100_BUDGET_S (560), BULKHEAD_H100_TESTS_S (150), BULKHEAD_H100_PART_S (240, any
# one part), BULKHEAD_H100_TOKENS (128 timed batch-1 tokens), BULKHEAD_H100_RUNS (3), BULKHEAD_H100_WARMUP (1),
# BULKHEAD_H100_CONCURRENCY (1,8,32,128,256), BULKHEAD_H100_MAX_TOKENS (128 per batched request),
# BULKHEAD_H100_MAX_BATCHED_TOKENS (4096), BULKHEAD_H100_BANDWIDTH_MIB (2048), BULKHEAD_H100_HEAP (8g),
# BULKHEAD_H100_WORK (benchmarks/target/h100-work), BULKHEAD_H100_PYTHON (the first of python3, python that imports
# torch and transformers), BULKHEAD_LOG_LEVEL (info), OUT.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd -P)"
checks="$root/cuda-kernels/gpu/run-gpu-checks.sh"
checks_bundle="$root/cuda-kernels/target/gpu-bundle"
bundle="$root/benchmarks/target/h100-bundle"
max_carry_bytes=$((63 * 1024 * 1024))
seed=42

die() { echo "run-h100.sh: $*" >&2; exit 2; }
now() { date +%s; }

# ---------------------------------------------------------------------------------------------------- prepare
prepare() {
  local jdk="" c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/*25*; do
    [ -n "$c" ] && [ -x "$c/bin/javac" ] && "$c/bin/java" -version 2>&1 | grep -q 'version "25' && { jdk="$c"; break; }
  done
  [ -n "$jdk" ] || die "no JDK 25 (JAVA_HOME or /usr/lib/jvm/*25*)"
  export JAVA_HOME="$jdk"
  command -v xz >/dev/null || die "prepare needs xz"
  local tok="${BULKHEAD_SHARED_DIR:-$root/../shared}/models/llama3.1-tokenizer"
  [ -f "$tok/tokenizer.json" ] || die "no Llama 3.1 tokenizer at $tok"
  cd "$root"
  if [ "${BULKHEAD_H100_REUSE_CHECKS:-0}" = 1 ] && [ -f "$checks_bundle/tests.tar.xz" ]; then
    echo "== reusing $checks_bundle ($(sed -n 's/^commit: *//p' "$checks_bundle/MANIFEST.txt"))"
    echo "== ./mvnw -B -q -o -pl benchmarks compile"
    ./mvnw -B -q -o -pl benchmarks compile
  else
    echo "== $checks prepare  (also installs the project, benchmarks included)"
    "$checks" prepare
  fi
  [ -f "$root/benchmarks/target/classes/dev/bulkhead/bench/gpu/GpuBench.class" ] || die "benchmarks is not compiled"

  local work="$root/benchmarks/target/h100-bundle-work"
  rm -rf "$work" "$bundle"
  mkdir -p "$work/classes/benchmarks" "$work/tokenizer/llama3.1-tokenizer" "$bundle"
  cp -R "$root/benchmarks/target/classes" "$work/classes/benchmarks/main"
  for f in tokenizer.json tokenizer_config.json SOURCE.txt; do
    [ -f "$tok/$f" ] && cp "$tok/$f" "$work/tokenizer/llama3.1-tokenizer/"
  done
  chmod -R u+w "$work"
  tar -C "$work" --owner=0 --group=0 --numeric-owner -cf - . | xz -9 -T0 >"$bundle/bench.tar.xz"
  (cd "$bundle" && sha256sum bench.tar.xz >SHA256SUMS)
  {
    echo "prepared:      $(date -u '+%Y-%m-%dT%H:%M:%SZ') on $(uname -n)"
    echo "commit:        $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)" \
         "($(git -C "$root" status --porcelain 2>/dev/null | wc -l) paths changed or untracked)"
    echo "checks bundle: $(sed -n 's/^commit: *//p' "$checks_bundle/MANIFEST.txt")"
    (cd "$checks_bundle" && sha256sum tests.tar.xz jdk.tar.xz) | sed 's/^/against:       /'
    echo "bench.tar.xz:  $(du -b "$bundle/bench.tar.xz" | cut -f1) bytes (unpacked $(du -sh "$work" | cut -f1))"
  } >"$bundle/MANIFEST.txt"
  cat "$bundle/MANIFEST.txt"
  rm -rf "$work"

  local tree checks_size size total
  tree="$(git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 -r du -cb 2>/dev/null) \
          | awk '$2 == "total" { s += $1 } END { print s + 0 }')"
  checks_size="$(du -sb "$checks_bundle" | cut -f1)"
  size="$(du -sb "$bundle" | cut -f1)"
  total=$((tree + checks_size + size))
  echo "== carry: working tree $((tree / 1024)) KiB + gpu-bundle $((checks_size / 1024)) KiB + h100-bundle" \
       "$((size / 1024)) KiB = $((total / 1024 / 1024)) MiB of 64"
  [ "$total" -le "$max_carry_bytes" ] || die "over 63 MiB: the device tool will not carry it"
  echo "== carry: [\"cuda-kernels/target/gpu-bundle\", \"benchmarks/target/h100-bundle\"]"
  echo "   command: benchmarks/gpu/run-h100.sh run device      timeout_s: 600"
}

# -------------------------------------------------------------------------------------------------------- run
json_str() {  # a JSON string of $1 (quotes, backslashes, control characters)
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\t'/ }"
  s="${s//$'\r'/ }"
  s="${s//$'\n'/ }"
  printf '"%s"' "$s"
}

record() {  # record NAME STATUS SECONDS FILE NOTE: one line of parts.tsv
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5//$'\t'/ }" >>"$OUT/parts.tsv"
  printf '== %-24s %-10s %4s s  %s\n' "$1" "$2" "$3" "$5"
}

wants() { [[ ",$parts," == *",$1,"* ]]; }

unpack() {  # unpack TARBALL.xz DIR, with xz if there is one, else python3's lzma
  mkdir -p "$2"
  if command -v xz >/dev/null 2>&1 && xz --version >/dev/null 2>&1; then
    xz -dc "$1" | tar -xf - -C "$2"
  else
    python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1])
t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$1" "$2"
  fi
}

# The java and class path of the parts: the bundles' (unpacked once per bundle into $work/runtime) or the build's.
setup_java() {
  if [ -n "${BULKHEAD_H100_JAVA:-}" ]; then
    java="$BULKHEAD_H100_JAVA"
    cp="${BULKHEAD_H100_CLASSPATH:?BULKHEAD_H100_CLASSPATH must go with BULKHEAD_H100_JAVA}"
    tokenizer="${BULKHEAD_SHARED_DIR:-$root/../shared}/models/llama3.1-tokenizer"
    runtime="build class path"
    return
  fi
  [ -f "$checks_bundle/jdk.tar.xz" ] && [ -f "$checks_bundle/tests.tar.xz" ] && [ -f "$bundle/bench.tar.xz" ] \
    || die "no bundles: run '$0 prepare' on a machine with Maven and JDK 25, then carry $checks_bundle and $bundle"
  if command -v sha256sum >/dev/null 2>&1; then
    (cd "$checks_bundle" && sha256sum -c --quiet SHA256SUMS) || die "$checks_bundle is damaged (SHA256SUMS)"
    (cd "$bundle" && sha256sum -c --quiet SHA256SUMS) || die "$bundle is damaged (SHA256SUMS)"
    if ! grep -q "$(cd "$checks_bundle" && sha256sum tests.tar.xz | cut -d' ' -f1)" "$bundle/MANIFEST.txt"; then
      echo "WARNING: $bundle was prepared against another gpu-bundle; its classes may not match (prepare again)" >&2
    fi
  fi
  local rt="$work/runtime" stamp
  stamp="$(cat "$checks_bundle/SHA256SUMS" "$bundle/SHA256SUMS")"
  if [ ! -f "$rt/.unpacked" ] || [ "$(cat "$rt/.unpacked")" != "$stamp" ]; then
    rm -rf "$rt"
    unpack "$checks_bundle/jdk.tar.xz" "$rt/jdk"
    unpack "$checks_bundle/tests.tar.xz" "$rt/payload"
    unpack "$bundle/bench.tar.xz" "$rt/bench"
    printf '%s' "$stamp" >"$rt/.unpacked"
  fi
  java="$rt/jdk/bin/java"
  cp="$rt/bench/classes/benchmarks/main"
  local e
  while IFS= read -r e; do cp="$cp:$rt/payload/$e"; done <"$rt/payload/classpath/tests.txt"
  tokenizer="$rt/bench/tokenizer/llama3.1-tokenizer"
  runtime="bundles ($(sed -n 's/^commit: *//p' "$bundle/MANIFEST.txt"))"
}

jvm_command() {  # sets jvm: the java command line of every Java part, class name and arguments to follow
  jvm=("$java" "-Xmx${BULKHEAD_H100_HEAP:-8g}" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
       -XX:+UseParallelGC -Djava.awt.headless=true -Dbulkhead.cache.dir="$work/cache"
       -DDJL_CACHE_DIR="$work/cache/djl" -DENGINE_CACHE_DIR="$work/cache/djl"
       -Dorg.slf4j.simpleLogger.defaultLogLevel="${BULKHEAD_LOG_LEVEL:-info}" -Dstdout.encoding=UTF-8
       -Dstderr.encoding=UTF-8 -cp "$cp")
}

allot() {  # allot CAP: seconds a part may take now (CAP, or what is left before the summary), 0 when none
  local left=$((deadline - $(now) - 25))
  [ "$left" -gt "$1" ] && left="$1"
  [ "$left" -ge 15 ] && echo "$left" || echo 0
}

# run_part NAME FILE CAP CMD...: runs CMD under the part's time limit, logs to logs/NAME.log, records the status.
run_part() {
  local name="$1" file="$2" cap="$3" t rc t0 note=""
  shift 3
  t="$(allot "$cap")"
  if [ "$t" -eq 0 ]; then
    record "$name" skipped 0 "" "the ${budget} s budget (BULKHEAD_H100_BUDGET_S) is spent"
    all_ok=0
    return 0
  fi
  t0=$SECONDS
  set +e
  local log="logs/${name// /-}.log"
  timeout --kill-after=15 "$t" "$@" >"$OUT/$log" 2>&1
  rc=$?
  set -e
  [ -n "$file" ] && [ ! -f "$OUT/$file" ] && note="; wrote no $file"
  if [ "$rc" -eq 0 ]; then
    record "$name" ok $((SECONDS - t0)) "$file" "${note#; }"
  elif { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ $((SECONDS - t0)) -ge $((t - 2)) ]; then
    record "$name" timed-out $((SECONDS - t0)) "$file" "stopped after $t s$note ($log)"
    all_ok=0
  elif [ "$rc" -eq 124 ]; then
    record "$name" timed-out $((SECONDS - t0)) "$file" "its own time budget was spent (exit 124)$note ($log)"
    all_ok=0
    all_ok=0
  else
    record "$name" failed $((SECONDS - t0)) "$file" \
      "exit $rc$note: $(grep -E 'Exception|Error|error' "$OUT/$log" | tail -1 | cut -c1-300) ($log)"
    all_ok=0
  fi
}

# ---- models: make-model in the background, one JVM per shape; need_model waits for one.
declare -A gen_pid=() gen_t0=()
start_models() {
  local s dir t
  mkdir -p "$work/models"
  for s in "${shapes[@]}"; do
    dir="$work/models/$s"
    if [ -f "$dir/COMPLETE" ] && [ "$(cat "$dir/COMPLETE")" = "$s bf16 seed $seed" ]; then
      gen_pid[$s]=reused
      continue
    fi
    rm -rf "$dir"
    t="$(allot "$part_cap")"
    local tok_args=()
    # NOTE: tiny test shapes take make-model's embedded 512-token tokenizer; real shapes the Llama 3.1 one.
    [[ "$s" == tiny-* ]] || tok_args=(--tokenizer "$tokenizer")
    gen_t0[$s]=$SECONDS
    timeout --kill-after=15 "$((t > 0 ? t : 1))" \
      "$java" -Xmx2g -XX:+UseParallelGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
      dev.bulkhead.server.cli.BulkheadCli make-model --shape "$s" --dtype bf16 --seed "$seed" --out "$dir" \
      "${tok_args[@]}" >"$OUT/logs/make-model-$s.log" 2>&1 &
    gen_pid[$s]=$!
  done
}

need_model() {  # need_model SHAPE: waits for its checkpoint once and records it; false when there is none
  local s="$1" pid="${gen_pid[$1]:-}" rc dir="$work/models/$1"
  if [ -z "$pid" ] || [ "$pid" = done ]; then
    :
  elif [ "$pid" = reused ]; then
    record "make-model $s" ok 0 checkpoints.json "reused $dir"
    gen_pid[$s]=done
  else
    set +e
    wait "$pid"
    rc=$?
    set -e
    gen_pid[$s]=done
    if [ "$rc" -eq 0 ]; then
      echo "$s bf16 seed $seed" >"$dir/COMPLETE"
      # NOTE: its own time (it ran in the background), rounded up, rather than how long this waited for it.
      local took
      took="$(sed -n 's/^wrote .* in \([0-9]*\)\(\.[0-9]*\)\{0,1\} s$/\1/p' "$OUT/logs/make-model-$s.log" | tail -1)"
      record "make-model $s" ok "$(( ${took:-$((SECONDS - gen_t0[$s]))} + 1 ))" checkpoints.json \
        "$(grep -o 'wrote .*' "$OUT/logs/make-model-$s.log" | tail -1)"
    else
      record "make-model $s" failed $((SECONDS - gen_t0[$s])) checkpoints.json \
        "exit $rc$( [ "$rc" -eq 124 ] || [ "$rc" -eq 143 ] && echo ': stopped at the deadline') (logs/make-model-$s.log)"
      all_ok=0
    fi
  fi
  [ -f "$dir/COMPLETE" ]
}

write_checkpoints() {
  local s dir first=1
  {
    printf '{\n  "part": "checkpoints",\n  "target": %s,\n  "dtype": "bf16",\n  "seed": %d,\n  "tool": "make-model",\n  "checkpoints": [' \
      "$(json_str "$target")" "$seed"
    for s in "${shapes[@]}"; do
      dir="$work/models/$s"
      [ "$first" = 1 ] || printf ','
      first=0
      printf '\n    {"shape": %s, "complete": %s, "dir": %s, "bytes": %s, "files": %s}' "$(json_str "$s")" \
        "$([ -f "$dir/COMPLETE" ] && echo true || echo false)" "$(json_str "$dir")" \
        "$( [ -d "$dir" ] && du -sb "$dir" | cut -f1 || echo 0)" \
        "[$( [ -d "$dir" ] && (cd "$dir" && for f in *; do printf '%s,' "$(json_str "$f")"; done) | sed 's/,$//')]"
    done
    printf '\n  ]\n}\n'
  } >"$OUT/checkpoints.json"
}

write_tests_json() {  # condenses tests/gpu-summary.txt
  local f="$OUT/tests/gpu-summary.txt" line rc
  [ -f "$f" ] || return 0
  line="$(grep '^tests:' "$f" | tail -1 || true)"
  rc="$(sed -n 's/^exit status: *\([0-9]*\).*/\1/p' "$f" | tail -1)"
  num() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $line"; }
  local not_run
  not_run="$(sed -n 's/^module \([^ ]*\) *not run:.*/\1/p' "$f" | while IFS= read -r m; do printf '%s,' "$(json_str "$m")"; done)"
  printf '{\n  "part": "tests",\n  "target": %s,\n  "modulesNotRun": [%s],\n  "found": %s,\n  "started": %s,\n  "succeeded": %s,\n  "failed": %s,\n  "skipped": %s,\n  "aborted": %s,\n  "exitStatus": %s,\n  "cudaSeen": %s,\n  "report": "tests/gpu-summary.txt"\n}\n' \
    "$(json_str "$target")" "${not_run%,}" "$(num found || true)" "$(num started || true)" "$(num succeeded || true)" \
    "$(num failed || true)" "$(num skipped || true)" "$(num aborted || true)" "${rc:-null}" \
    "$(json_str "$(sed -n 's/^CUDA seen: *//p' "$f" | head -1)")" \
    | sed 's/: ,/: null,/' >"$OUT/tests.json"
}

run_all() {
  target="${1:-device}"
  case "$target" in device) device=cuda ;; emulator) device=cuda-emulator ;; *) die "usage: $0 run [device|emulator]" ;; esac
  OUT="${OUT:-$root/benchmarks/target/h100-results}"
  mkdir -p "$OUT/logs"
  OUT="$(cd "$OUT" && pwd)"
  : >"$OUT/parts.tsv"
  work="${BULKHEAD_H100_WORK:-$root/benchmarks/target/h100-work}"
  mkdir -p "$work/cache"
  work="$(cd "$work" && pwd)"
  budget="${BULKHEAD_H100_BUDGET_S:-560}"
  deadline=$(( $(now) + budget ))
  part_cap="${BULKHEAD_H100_PART_S:-240}"
  parts="${BULKHEAD_H100_PARTS:-tests,models,device,decode,batched,hf}"
  local shape_list="${BULKHEAD_H100_SHAPES:-llama-3.2-1b llama-3.1-8b}"
  read -r -a shapes <<<"${shape_list//,/ }"
  local tokens="${BULKHEAD_H100_TOKENS:-128}" runs="${BULKHEAD_H100_RUNS:-3}" warmup="${BULKHEAD_H100_WARMUP:-1}"
  local conc="${BULKHEAD_H100_CONCURRENCY:-1,8,32,128,256}" max_tokens="${BULKHEAD_H100_MAX_TOKENS:-128}"
  local python="${BULKHEAD_H100_PYTHON:-}" s t i c
  all_ok=1
  setup_java
  jvm_command
  echo "== Bulkhead first GPU run: target $target ($device), shapes ${shapes[*]}, parts $parts, budget $budget s"
  echo "== java: $("$java" -version 2>&1 | head -1), $runtime; results in $OUT"
  if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 60 nvidia-smi --query-gpu=name,memory.total,driver_version,pci.bus_id,clocks.max.memory \
      --format=csv,noheader >"$OUT/nvidia-smi.txt" 2>&1 || echo "(nvidia-smi failed)" >>"$OUT/nvidia-smi.txt"
  else
    echo "no nvidia-smi on this machine" >"$OUT/nvidia-smi.txt"
  fi

  if wants hf && [ -z "$python" ]; then
    # NOTE: the image's Python with torch and transformers may be python3 or python.
    for c in python3 python; do
      if command -v "$c" >/dev/null 2>&1 && timeout 120 "$c" -c 'import torch, transformers' >/dev/null 2>&1; then
        python="$c"
        break
      fi
    done
  fi
  wants models && start_models
  # NOTE: the copy bandwidth first, while the GPU is idle (make-model only uses the CPU and the disk).
  wants device && run_part device bandwidth.json 60 "${jvm[@]}" dev.bulkhead.bench.gpu.GpuBench device --device "$device" \
    --nvidia-smi "$OUT/nvidia-smi.txt" --bandwidth-mib "${BULKHEAD_H100_BANDWIDTH_MIB:-2048}" --out-dir "$OUT"
  if wants tests; then
    t="$(allot "${BULKHEAD_H100_TESTS_S:-150}")"
    # NOTE: run-gpu-checks.sh stops its tests at its own budget and still writes gpu-summary.txt.
    run_part tests tests/gpu-summary.txt "$((t + 30))" env OUT="$OUT/tests" BULKHEAD_GPU_CHECKS_TIMEOUT_S="$t" \
      "$checks" run "$target"
    write_tests_json
  fi
  # decode for every shape first (a target each), then batched and hf from the largest shape down
  if wants decode; then
    for s in "${shapes[@]}"; do
      if need_model "$s"; then
        t="$(allot "$part_cap")"
        run_part "decode $s" "decode-$s.json" "$part_cap" "${jvm[@]}" dev.bulkhead.bench.gpu.GpuBench decode --device "$device" \
          --model "$work/models/$s" --shape "$s" --tokens "$tokens" --warmup "$warmup" --runs "$runs" \
          --bandwidth "$OUT/bandwidth.json" --budget-s "$((t > 60 ? t - 45 : t / 2))" --out "$OUT/decode-$s.json"
      else
        record "decode $s" skipped 0 "" "no checkpoint"
      fi
    done
  fi
  for ((i = ${#shapes[@]} - 1; i >= 0; i--)); do
    s="${shapes[$i]}"
    if wants batched; then
      if need_model "$s"; then
        t="$(allot "$part_cap")"
        run_part "batched $s" "batched-$s.json" "$part_cap" "${jvm[@]}" dev.bulkhead.bench.serving.ThroughputBench \
          --device "$device" --model "$work/models/$s" --concurrency "$conc" --max-tokens "$max_tokens" --runs 1 \
          --warmup-tokens 8 --max-batched-tokens "${BULKHEAD_H100_MAX_BATCHED_TOKENS:-4096}" --timeout-s 300 \
          --budget-s "$((t > 60 ? t - 50 : t / 2))" --no-png --out "$OUT/batched-$s.json"
      else
        record "batched $s" skipped 0 "" "no checkpoint"
      fi
    fi
    if wants hf; then
      if [ -z "$python" ]; then
        record "hf $s" failed 0 "" "no Python with torch and transformers (tried python3, python; set BULKHEAD_H100_PYTHON)"
        all_ok=0
      elif need_model "$s"; then
        t="$(allot "$part_cap")"
        run_part "hf $s" "hf-$s.json" "$part_cap" "$python" "$here/hf_bench.py" --model "$work/models/$s" --shape "$s" \
          --tokens "$tokens" --runs "$runs" --concurrency "$conc" --max-tokens "$max_tokens" \
          --budget-s "$((t > 60 ? t - 50 : t / 2))" --out "$OUT/hf-$s.json"
      else
        record "hf $s" skipped 0 "" "no checkpoint"
      fi
    fi
  done
  if wants models; then
    for s in "${shapes[@]}"; do
      if [ "${gen_pid[$s]:-done}" != done ] && [ "${gen_pid[$s]}" != reused ] && [ $((deadline - $(now))) -lt 40 ]; then
        kill "${gen_pid[$s]}" 2>/dev/null || true  # NOTE: the timeout process, which stops its make-model too
      fi
      need_model "$s" || true
    done
    write_checkpoints
  fi
  set +e
  timeout 60 "$java" -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" dev.bulkhead.bench.gpu.GpuBench \
    summary --dir "$OUT" --shapes "$(IFS=,; echo "${shapes[*]}")" 2>&1 | tee "$OUT/logs/summary.log"
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || { echo "run-h100.sh: the summary failed (exit $rc)" >&2; return 1; }
  [ "$all_ok" = 1 ] || { echo "run-h100.sh: some parts failed or were skipped (parts.tsv)" >&2; return 1; }
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run_all "${1:-device}" ;;
  *) echo "usage: $0 prepare | run [device|emulator]" >&2; exit 2 ;;
esac
