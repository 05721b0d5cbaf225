#!/usr/bin/env bash
# What bounds each row of the peer table on Bulkhead's side: for every GGUF type, one decode-only run (256
# tokens) and one prefill-only run (one 128-token prompt) of BulkheadGgufRun under JFR, each followed by its
# hottest Java methods (`jfr view hot-methods`), into $OUT (a Markdown file).
#
#   [OUT=benchmarks/results/NAME.md] [TYPES="F32 Q4_K_M"] [JVM_FLAGS=-XX:UseAVX=2] benchmarks/peer/profile-peer-rows.sh
#
# Needs the GGUF files that run-llamacpp-peer.sh made (benchmarks/target/peer/gguf, or GGUF_DIR) and the
# benchmarks jar. Samples are of the whole run, warm-up included; a row's shares, not its speed, are the point.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
. "$ROOT/.mvn/find-jdk25.sh"   # exports JAVA_HOME (a JDK 25+)
GGUF_DIR="${GGUF_DIR:-$ROOT/benchmarks/target/peer/gguf}"
TYPES="${TYPES:-F32 BF16 F16 Q8_0 Q4_0 Q4_K_M}"
OUT="${OUT:-$ROOT/benchmarks/results/peer-profile-stories110m.md}"
JAR="$ROOT/benchmarks/target/bulkhead-benchmarks.jar"
THREADS="${THREADS:-2}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# NOTE: built every time (Maven skips what is up to date): the report names HEAD's commit, so a jar left from an
# earlier build of other code would be profiled under the wrong name.
(cd "$ROOT" && ./mvnw -B -o -q -pl benchmarks -am package -DskipTests)
{
  echo "# Where Bulkhead's time goes, per peer row"
  echo
  echo "- commit: $(git -C "$ROOT" rev-parse --short=12 HEAD)"
  echo "- threads: $THREADS; JVM flags: ${JVM_FLAGS:-none}; $(uname -m), $(nproc) CPUs"
  echo "- decode: 256 tokens after a 4-token prompt; prefill: one 128-token prompt (4 decode tokens); 1 warm-up + 3 runs"
  echo "- command: benchmarks/peer/profile-peer-rows.sh (JFR execution samples, \`jfr view hot-methods\`)"
} > "$OUT"
for type in $TYPES; do
  file="$GGUF_DIR/stories110m-seed42-$type.gguf"
  if [ ! -f "$file" ]; then
    echo "missing $file: run benchmarks/peer/run-llamacpp-peer.sh first" >&2
    exit 1
  fi
  for mode in decode prefill; do
    if [ "$mode" = decode ]; then decode=256; prompt=4; else decode=4; prompt=128; fi
    jfr="$TMP/$type-$mode.jfr"
    # shellcheck disable=SC2086
    result=$("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx2g \
      ${JVM_FLAGS:-} -XX:StartFlightRecording=filename="$jfr",settings=profile -cp "$JAR" \
      dev.bulkhead.bench.peer.BulkheadGgufRun "$file" "$type" "$THREADS" "$decode" "$prompt" 1 3 2>/dev/null \
      | grep -o "\"${mode}Tps\":\[[^]]*\]" || true)
    {
      echo
      echo "## $mode $type"
      echo
      echo "tok/s per run: ${result#*:}"
      echo
      echo '```'
      "$JAVA_HOME/bin/jfr" view --width 150 hot-methods "$jfr" | sed -n '5,16p'
      echo '```'
    } >> "$OUT"
    echo "profiled $mode $type" >&2
  done
done
echo "wrote $OUT" >&2
