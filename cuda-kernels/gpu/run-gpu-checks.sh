#!/usr/bin/env bash
# GPU checks of the CUDA backend: every JUnit test tagged "gpu" in dev.bulkhead.*, run on a GPU machine that has
# CUDA, an NVIDIA driver, Python and torch but NO JDK, NO Maven and NO network. Everything the run needs (a
# jlinked JDK 25, the classes, the dependency jars, the JUnit console launcher, the shared test data) is prepared
# here into ONE ignored directory that is carried along with the working tree.
#
#   1. Here, with Maven and JDK 25:   cuda-kernels/gpu/run-gpu-checks.sh prepare
#      installs the project (./mvnw -B -q -o install -DskipTests), test-compiles the modules with gpu-tagged
#      tests, and writes cuda-kernels/target/gpu-bundle/ (about 40 MiB; it must stay under 60 MiB):
#        jdk.tar.xz     a jlinked JDK 25 runtime (only the modules jdeps finds, plus jdk.incubator.vector and
#                       what the JUnit console launcher needs), linked uncompressed and packed with xz -9
#        tests.tar.xz   classes/<module>/{main,test}, lib/*.jar (test scope; foreign-OS native libraries
#                       removed; every jar re-stored uncompressed so xz packs it), launcher/ (JUnit Platform
#                       console standalone 1.13.4), shared/ (the files of ../shared the gpu tests read),
#                       probe/ (GpuProbe.class), classpath/<module>.txt (Maven's test class path, in its order)
#        MANIFEST.txt   what was prepared from (commit, date, modules, JDK modules, sizes);  SHA256SUMS;
#        SOURCES.sha256 the sources it was built from (run warns when the tree it runs in differs)
#      It needs JDK 25 (JAVA_HOME, else /usr/lib/jvm/*25*), nvcc (the fatbin), g++ (the emulator), python3, xz.
#      The test class paths are read from Maven's debug output (maven-dependency-plugin does not resolve offline).
#   2. On the GPU machine (bash, coreutils, tar, and xz or python3; nothing else):
#        cuda-kernels/gpu/run-gpu-checks.sh run [device|emulator]      (default: device)
#      unpacks the bundle into a temporary directory (xz, else python3's lzma), then runs the JUnit console
#      launcher (execute --scan-class-path <module test classes> --include-package dev.bulkhead --include-tag gpu)
#      once per module that has gpu tests, in its own JVM with the module directory as working directory, as
#      surefire does (cuda-emulator, engine-java, tests today), with the bundled java and
#        -Xmx8g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC
#        -Dbulkhead.gpu.target=device|emulator -Dbulkhead.cache.dir=<temp> -Dbulkhead.shared.dir=<bundle's shared>
#        -Dbulkhead.checkInvariants=true
#      and writes to ${OUT:-cuda-kernels/target/gpu-reports}: junit-<module>/ (the launcher's --reports-dir: one
#      per module, as each JVM writes TEST-junit-jupiter.xml), <module>.log (its output, with the test tree) and
#      gpu-summary.txt (target, date, commit or "unknown", the bundle's commit, nvidia-smi -L or "no nvidia-smi",
#      the CUDA device the tests see (GpuProbe), per-module and total counts, every failed [X] or aborted [A]
#      test with its message). Exit status: the first non-zero launcher's (124 past the time budget), else 0.
#      NOTE: on a machine without a usable GPU "run device" exits 0 with every test aborted (GpuTarget skips
#      them); the summary then says "WARNING: only 0 of N gpu tests ran". Tests that need files the bundle does
#      not carry abort with the reason too: CliGpuTest (emulator-only) wants ../server/target/bulkhead.jar, the
#      42 MiB CLI jar, left out for size, so it aborts in an emulator rehearsal (on a device it aborts anyway).
#      "emulator" runs the same tests on the CPU CUDA emulator inside the bulkhead-cuda-emulator jar: a
#      rehearsal of the bundle anywhere, not a GPU result.
#
# With the device tool (run), after "prepare" here:
#     carry:   ["cuda-kernels/target/gpu-bundle"]
#     command: cuda-kernels/gpu/run-gpu-checks.sh run device
#     timeout_s: 600 (the script stops the tests at BULKHEAD_GPU_CHECKS_TIMEOUT_S, default 540 s, with a thread
#     dump, so gpu-summary.txt is still written); the reports come back under $OUT.
#
# Size budget: the tool carries the working tree plus the carried paths, 64 MiB in all. The tree (tracked and
# untracked, not ignored) is about 4 MiB (prepare prints it), so the bundle must stay under 60 MiB (prepare fails
# above that). It was 39 MiB when written: jdk.tar.xz 21.4 MiB (jlink --compress zip-9 instead would be ~37 MiB
# packed: xz over an uncompressed image packs far better) and tests.tar.xz 17.8 MiB for the three modules' test
# class paths (100 jars, DJL's tokenizers jar down from 18 to 5 MiB without its macOS, Windows and aarch64
# libraries, JNA's likewise; stored jars under xz take half the room of deflated ones) and 2.3 MiB of ../shared.
# Unpacked, the run needs about 200 MiB under TMPDIR for a few seconds of xz.
#
# Rehearsal without a GPU (here): prepare, copy the tree and the bundle elsewhere, then with no JDK reachable
#     OUT=/tmp/out cuda-kernels/gpu/run-gpu-checks.sh run emulator
# (the script only ever uses the bundled runtime; it never looks at JAVA_HOME, PATH's java or ~/.m2 when running).
#
# Environment: BULKHEAD_GPU_CHECKS_TIMEOUT_S (whole run, default 540), BULKHEAD_LOG_LEVEL (slf4j-simple level,
# default info), BULKHEAD_SHARED_DIR (a full ../shared instead of the bundle's copy), BULKHEAD_GPU_KEEP_WORK=1
# (keep the unpacked directory), TMPDIR. gpu-summary.txt warns when the tree's sources differ from the bundle's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd -P)"
bundle="$root/cuda-kernels/target/gpu-bundle"
max_bundle_bytes=$((60 * 1024 * 1024))
# Modules that may hold gpu-tagged tests; those whose test sources have none are not run.
candidate_modules=(native cuda-kernels cuda-emulator engine-java tests)
# Modules added to every JDK image on top of what jdeps finds: the Vector API (a run-time --add-modules), and the
# JUnit console launcher's own needs (java.util.logging, its XML reports, java.sql, zipfs for scanning jars).
extra_jdk_modules=(jdk.incubator.vector java.logging java.xml java.sql jdk.zipfs)
# What surefire includes by default, so the launcher picks the same classes.
surefire_classnames='^(Test.*|.+[.$]Test.*|.*Tests?|.*TestCase)$'

die() {
  echo "run-gpu-checks.sh: $*" >&2
  if [ -n "${summary:-}" ] && [ -f "$summary" ]; then echo "error:         $*" >>"$summary"; fi
  exit 2
}
has_gpu_tests() { [ -d "$root/$1/src/test" ] && grep -rqE '@Tag\(\s*"gpu"\s*\)' "$root/$1/src/test"; }

# The sources a bundle is built from, one "sha256  path" a line: run compares them with the tree it runs in.
source_sums() {
  (cd "$root" && find . -path '*/target' -prune -o -path './.git' -prune -o -path ./cuda-kernels/gpu/run-gpu-checks.sh \
     -prune -o -type f \
     \( -name '*.java' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cpp' -o -name '*.h' -o -name 'pom.xml' \
        -o -name '*.properties' -o -name '*.sh' \) -print | LC_ALL=C sort | xargs -r sha256sum)
}

# ---------------------------------------------------------------------------------------------------- prepare
find_jdk25() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/*25*; do
    [ -n "$c" ] && [ -x "$c/bin/jlink" ] && [ -x "$c/bin/javac" ] && [ -x "$c/bin/jdeps" ] || continue
    if "$c/bin/java" -version 2>&1 | grep -q 'version "25'; then echo "$c"; return 0; fi
  done
  return 1
}

# Copies a jar as a stored (uncompressed) zip, without native libraries for other systems than linux x86-64.
repack_jar() {
  python3 - "$1" "$2" <<'EOF'
import re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
native = re.compile(r'\.(so(\.[0-9.]+)?|dylib|jnilib|dll|a)$')
# a path component naming an OS-architecture pair other than linux x86-64 (linux-x86 is 32-bit, so foreign)
foreign = re.compile(r'(^|/)(?!linux-(x86[-_]64|amd64)/)(linux|android|darwin|osx|macos|mac|win|win32|windows|'
                     r'freebsd|openbsd|netbsd|dragonflybsd|sunos|solaris|aix)[-_][^/]*/')
dropped, kept, had_foreign = 0, [], False
with zipfile.ZipFile(src) as zi:
    names = [n for n in zi.namelist() if not n.endswith('/')]
    if all(n.startswith('META-INF/') or n == 'module-info.class' for n in names):
        print(f"  {src.rsplit('/', 1)[-1]}: left out, it holds no classes or resources (an aggregator)")
        sys.exit(3)
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zo:
    for info in zi.infolist():
        name = info.filename
        if native.search(name) and foreign.search(name):
            dropped += info.file_size
            had_foreign = True
            continue
        if native.search(name):
            kept.append(name)
        zo.writestr(info, zi.read(info), compress_type=zipfile.ZIP_STORED)
if dropped:
    print(f"  {src.rsplit('/', 1)[-1]}: dropped {dropped / 2**20:.1f} MiB of foreign native libraries, kept {kept}")
    if not kept:
        print(f"  WARNING: {src} has no linux x86-64 native library left", file=sys.stderr)
EOF
}

prepare() {
  local jdk work payload mods m e rel log
  jdk="$(find_jdk25)" || die "no JDK 25 with jlink (JAVA_HOME or /usr/lib/jvm/*25*)"
  command -v python3 >/dev/null || die "prepare needs python3 (to repack jars)"
  command -v xz >/dev/null || die "prepare needs xz"
  export JAVA_HOME="$jdk"
  echo "== JDK: $jdk"
  cd "$root"

  mods=()
  for m in "${candidate_modules[@]}"; do has_gpu_tests "$m" && mods+=("$m"); done
  [ "${#mods[@]}" -gt 0 ] || die "no test tagged gpu in ${candidate_modules[*]}"
  echo "== modules with gpu tests: ${mods[*]}"

  work="$root/cuda-kernels/target/gpu-bundle-work"
  rm -rf "$work" "$bundle"
  mkdir -p "$work" "$bundle"
  source_sums >"$work/SOURCES.sha256"  # NOTE: before building, so a source edited during the build shows at run
  echo "== ./mvnw -B -q -o install -DskipTests"
  ./mvnw -B -q -o install -DskipTests
  payload="$work/payload"
  mkdir -p "$payload/classes" "$payload/lib" "$payload/launcher" "$payload/classpath" "$payload/shared"

  # NOTE: maven-dependency-plugin does not resolve offline here (its own dependencies were never downloaded), so
  # the test class paths are read from the compiler plugin's configuration in Maven's debug output: the
  # testPath of each testCompile, Maven's resolved test-scope class path in its order.
  # The GPU side's modules are test-compiled together (one reactor: they are class directories, the rest jars).
  local pl="native,cuda-kernels,cuda-emulator,engine-java"
  for m in "${mods[@]}"; do [[ ",$pl," == *",$m,"* ]] || pl="$pl,$m"; done
  log="$work/maven-test-compile.log"
  echo "== ./mvnw -B -X -o -pl $pl test-compile  (log: $log)"
  ./mvnw -B -X -o -pl "$pl" test-compile >"$log" 2>&1 \
    || { tail -40 "$log" >&2; die "test-compile failed"; }

  local launcher_src
  launcher_src="$(grep -o '[^][ ,]*/junit-platform-console-standalone-1\.13\.4\.jar' "$log" | head -1 || true)"
  [ -f "$launcher_src" ] || die "junit-platform-console-standalone-1.13.4.jar is not on a test class path (cuda-kernels declares it)"
  cp "$launcher_src" "$payload/launcher/"
  # jars the standalone launcher already holds (JUnit, opentest4j, apiguardian) stay out of lib/
  local shadowed
  shadowed="$(cd "$work" && "$jdk/bin/jar" xf "$launcher_src" META-INF/shadowed-artifacts && \
              awk -F: '{print $2 "-" $3 ".jar"}' META-INF/shadowed-artifacts)"

  echo "== class paths"
  declare -A copied=()
  for m in "${mods[@]}"; do
    local line
    line="$(grep -F "(f) testPath = [$root/$m/target/test-classes" "$log" | head -1 || true)"
    [ -n "$line" ] || die "no testPath for $m in $log"
    : >"$payload/classpath/$m.txt"
    while IFS= read -r e; do
      [ -n "$e" ] && [ -e "$e" ] || continue
      case "$e" in
        "$root"/*/target/test-classes) rel="${e#"$root"/}"; rel="classes/${rel%/target/test-classes}/test" ;;
        "$root"/*/target/classes) rel="${e#"$root"/}"; rel="classes/${rel%/target/classes}/main" ;;
        *.jar)
          if grep -qxF "$(basename "$e")" <<<"$shadowed"; then continue; fi
          [[ "$(basename "$e")" == junit-platform-console-standalone-* ]] && continue
          rel="lib/$(basename "$e")" ;;
        *) die "unexpected class path entry $e" ;;
      esac
      if [ "${copied[$rel]:-}" = "-" ]; then
        continue
      elif [ -n "${copied[$rel]:-}" ]; then
        [ "${copied[$rel]}" = "$e" ] || die "$e and ${copied[$rel]} would both be $rel"
      else
        mkdir -p "$(dirname "$payload/$rel")"
        if [ -d "$e" ]; then
          cp -R "$e" "$payload/$rel"
        else
          repack_jar "$e" "$payload/$rel" || { [ $? -eq 3 ] || die "could not repack $e"; copied[$rel]="-"; continue; }
        fi
        copied[$rel]="$e"
      fi
      echo "$rel" >>"$payload/classpath/$m.txt"
    done < <(sed -e 's/.*(f) testPath = \[//' -e 's/\]$//' <<<"$line" | tr ',' '\n' | sed 's/^ *//')
    [ -d "$payload/classes/$m/test" ] || die "$m has gpu tests but no test classes"
    echo "  $m: $(wc -l <"$payload/classpath/$m.txt") entries"
  done
  # union, first-seen order, for the probe
  cat "$payload"/classpath/*.txt | awk '!seen[$0]++' >"$work/all-classpath.txt"
  local fatbin=""
  [ -f "$payload/classes/cuda-kernels/main/dev/bulkhead/kernels/bulkhead.fatbin" ] && fatbin=yes
  for e in "$payload"/lib/bulkhead-cuda-kernels-*.jar; do
    [ -f "$e" ] && "$jdk/bin/jar" tf "$e" | grep -q 'dev/bulkhead/kernels/bulkhead.fatbin' && fatbin=yes
  done
  [ -n "$fatbin" ] || die "no fatbin in the cuda-kernels classes: build cuda-kernels with nvcc on PATH ('run device' needs it)"
  find "$payload/classes" -name libbulkhead-cuemu.so | grep -q . \
    || echo "WARNING: no CUDA emulator library in the bundle: 'run emulator' will skip every test" >&2

  echo "== shared test data"
  local shared_src list
  shared_src="$(cd "$root/.." && pwd)/shared"
  [ -d "$shared_src" ] || die "no $shared_src"
  list="$work/shared-files.txt"
  # listed by hand, plus every string literal with a '/' in the gpu tests' packages that names a file there
  grep -v '^\s*\(#\|$\)' "$here/shared-files.txt" >"$list" || true
  for m in "${mods[@]}"; do
    grep -rlE '@Tag\(\s*"gpu"\s*\)' "$root/$m/src/test" | xargs -r -n1 dirname | sort -u \
      | while IFS= read -r d; do
          find "$d" -maxdepth 1 -name '*.java' -exec grep -ohE '"[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)+"' {} + || true
        done | tr -d '"' | while IFS= read -r f; do [ -f "$shared_src/$f" ] && echo "$f"; done >>"$list" || true
  done
  sort -u "$list" | while IFS= read -r f; do
    [ -f "$shared_src/$f" ] || die "shared-files.txt names $f, not in $shared_src"
    mkdir -p "$payload/shared/$(dirname "$f")"
    cp "$shared_src/$f" "$payload/shared/$f"
    echo "  $f ($(du -h "$shared_src/$f" | cut -f1))"
  done
  chmod -R u+w "$payload/shared"

  echo "== probe"
  local cp_all=""
  while IFS= read -r e; do cp_all="$cp_all:$payload/$e"; done <"$work/all-classpath.txt"
  mkdir -p "$payload/probe"
  "$jdk/bin/javac" -nowarn --release 25 -d "$payload/probe" -cp "${cp_all#:}" "$here/GpuProbe.java" \
    || { echo "WARNING: GpuProbe did not compile: gpu-summary.txt will not name the device" >&2; rm -rf "$payload/probe"; }

  echo "== jlink"
  local jdeps_mods jdk_mods
  jdeps_mods="$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 \
                  "$payload"/launcher/*.jar "$payload"/lib/*.jar "$payload"/classes/*/* 2>"$work/jdeps.err")" \
    || { echo "$jdeps_mods" >&2; cat "$work/jdeps.err" >&2; die "jdeps failed"; }
  jdk_mods="$(printf '%s\n' ${jdeps_mods//,/ } "${extra_jdk_modules[@]}" | sort -u | paste -sd, -)"
  echo "  jdeps: $jdeps_mods"
  echo "  modules: $jdk_mods"
  # NOTE: zip-0 here and xz over the tarball: ~22 MiB; --compress zip-9 inside the image packs to ~37 MiB.
  "$jdk/bin/jlink" --add-modules "$jdk_mods" --strip-debug --no-header-files --no-man-pages --compress zip-0 \
    --output "$work/jdk" 2>&1 | grep -v 'Using incubator modules' || true
  "$work/jdk/bin/java" --add-modules jdk.incubator.vector -version >/dev/null 2>&1 || die "the jlinked runtime does not start"

  echo "== packing (xz -9)"
  tar -C "$work/jdk" --owner=0 --group=0 --numeric-owner -cf - . | xz -9 -T0 >"$bundle/jdk.tar.xz"
  tar -C "$payload" --owner=0 --group=0 --numeric-owner -cf - . | xz -9 -T0 >"$bundle/tests.tar.xz"
  mv "$work/SOURCES.sha256" "$bundle/"
  (cd "$bundle" && sha256sum jdk.tar.xz tests.tar.xz >SHA256SUMS)
  {
    echo "prepared:      $(date -u '+%Y-%m-%dT%H:%M:%SZ') on $(uname -n)"
    echo "commit:        $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)" \
         "($(git -C "$root" status --porcelain 2>/dev/null | wc -l) paths changed or untracked)"
    echo "test modules:  ${mods[*]}"
    echo "jdk:           $("$work/jdk/bin/java" -version 2>&1 | head -1)"
    echo "jdk modules:   $jdk_mods"
    echo "jdk.tar.xz:    $(du -b "$bundle/jdk.tar.xz" | cut -f1) bytes (unpacked $(du -sh "$work/jdk" | cut -f1))"
    echo "tests.tar.xz:  $(du -b "$bundle/tests.tar.xz" | cut -f1) bytes (unpacked $(du -sh "$payload" | cut -f1))"
  } >"$bundle/MANIFEST.txt"
  cat "$bundle/MANIFEST.txt"

  local size tree
  size="$(du -sb "$bundle" | cut -f1)"
  tree="$(git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 -r du -cb 2>/dev/null) | tail -1 | cut -f1)"
  echo "== bundle: $(du -sh "$bundle" | cut -f1) ($size bytes); working tree (tracked + untracked, not ignored): $((tree / 1024)) KiB"
  [ "$size" -le "$max_bundle_bytes" ] || die "the bundle is over 60 MiB: it will not fit the device tool's carry"
  rm -rf "$work"
}

# -------------------------------------------------------------------------------------------------------- run
unpack() {  # unpack TARBALL.xz DIR, with xz if there is one, else python3's lzma
  mkdir -p "$2"
  if command -v xz >/dev/null 2>&1 && xz --version >/dev/null 2>&1; then
    xz -dc "$1" | tar -xf - -C "$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1])
t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$1" "$2"
  else
    die "neither xz nor python3 to unpack $1"
  fi
}

count() {  # count LOG WHAT ("tests found", "tests failed", ...): the launcher's summary line, or empty
  sed -n "s/^\[ *\([0-9][0-9]*\) $2 *\]\$/\1/p" "$1" | tail -1
}

not_passed() {  # not_passed LOG: "Class > method() [X] message" for each failed [X] or aborted [A] node of the tree
  awk '
    $0 == "." { tree = 1; next }
    tree && $0 == "" { exit }
    tree {
      line = $0; sub(/^[ |+`\047-]*/, "", line)
      if (line ~ /^[A-Z][A-Za-z0-9_$]* \[/) { cls = line; sub(/ \[.*/, "", cls); meth = "" }
      else if (line ~ /^[^[]+\) \[/) { meth = line; sub(/\) \[.*/, ")", meth) }
      if (line !~ /\[[XA]\]/) next
      if (line ~ /^[A-Z][A-Za-z0-9_$]* \[/) print line
      else if (line ~ /^\[/) print cls " > " meth " > " line
      else print cls " > " line
    }' "$1"
}

run_checks() {
  local target="${1:-device}"
  case "$target" in device|emulator) ;; *) die "usage: $0 run [device|emulator]" ;; esac
  [ -f "$bundle/jdk.tar.xz" ] && [ -f "$bundle/tests.tar.xz" ] \
    || die "no bundle in $bundle: run '$0 prepare' on a machine with Maven and JDK 25 first, then carry it"
  reports="${OUT:-$root/cuda-kernels/target/gpu-reports}"
  mkdir -p "$reports"
  reports="$(cd "$reports" && pwd)"
  summary="$reports/gpu-summary.txt"
  work="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-gpu-checks.XXXXXX")"
  final_rc=""
  trap 'rc=$?; [ -n "$final_rc" ] || echo "exit status:   $rc (the script stopped early)" >>"$summary";
        [ "${BULKHEAD_GPU_KEEP_WORK:-0}" = 1 ] || rm -rf "$work"' EXIT
  local run_started budget deadline
  run_started="$(date +%s)"
  budget="${BULKHEAD_GPU_CHECKS_TIMEOUT_S:-540}"
  deadline=$((run_started + budget))

  {
    echo "Bulkhead GPU checks"
    echo "target:        $target$([ "$target" = emulator ] && echo ' (CPU CUDA emulator: a rehearsal, not a GPU result)')"
    echo "date:          $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    echo "host:          $(uname -n) ($(nproc) CPUs)"
    echo "git commit:    $( { [ -e "$root/.git" ] && git -C "$root" rev-parse HEAD 2>/dev/null; } || echo unknown)"
    echo "bundle:        $(sed -n 's/^commit: *//p' "$bundle/MANIFEST.txt" 2>/dev/null || echo '?'), $(sed -n 's/^prepared: *//p' "$bundle/MANIFEST.txt" 2>/dev/null)"
    if command -v nvidia-smi >/dev/null 2>&1; then
      echo "nvidia-smi -L:"
      timeout 60 nvidia-smi -L 2>&1 | sed 's/^/  /' || echo "  (nvidia-smi failed)"
    else
      echo "nvidia-smi -L: no nvidia-smi"
    fi
  } >"$summary"

  if command -v sha256sum >/dev/null 2>&1; then
    (cd "$bundle" && sha256sum -c --quiet SHA256SUMS) || die "the bundle is damaged (SHA256SUMS)"
    if [ -f "$bundle/SOURCES.sha256" ]; then
      local stale
      stale="$( { (cd "$root" && sha256sum -c --quiet "$bundle/SOURCES.sha256" 2>/dev/null || true) | sed 's/: .*//'
                 diff <(source_sums | sed 's/^[0-9a-f]*  //') <(sed 's/^[0-9a-f]*  //' "$bundle/SOURCES.sha256") \
                   | sed -n 's/^< //p' || true; } | sort -u)"  # NOTE: diff exits 1 on a difference
      if [ -z "$stale" ]; then
        echo "sources:       the same as the bundle was prepared from" >>"$summary"
      else
        echo "WARNING:       $(wc -l <<<"$stale") source file(s) differ from those the bundle was prepared from" \
             "(the tests that run are the bundle's; prepare again to test these):" >>"$summary"
        head -20 <<<"$stale" | sed 's/^/    /' >>"$summary"
      fi
    fi
  fi
  local t0=$SECONDS
  unpack "$bundle/jdk.tar.xz" "$work/jdk"
  unpack "$bundle/tests.tar.xz" "$work/payload"
  local java="$work/jdk/bin/java" payload="$work/payload"
  [ -x "$java" ] || die "no java in the unpacked runtime"
  echo "java:          $("$java" -version 2>&1 | head -1) (bundled, unpacked in $((SECONDS - t0)) s)" >>"$summary"
  mkdir -p "$work/cache"

  local launcher
  launcher="$(ls "$payload"/launcher/junit-platform-console-standalone-*.jar)"
  local jvm=(-Xmx8g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC
             -Dbulkhead.gpu.target="$target" -Dbulkhead.cache.dir="$work/cache"
             -Dbulkhead.shared.dir="${BULKHEAD_SHARED_DIR:-$payload/shared}" -Dbulkhead.checkInvariants=true
             -Dorg.slf4j.simpleLogger.defaultLogLevel="${BULKHEAD_LOG_LEVEL:-info}"
             -Dstdout.encoding=UTF-8 -Dstderr.encoding=UTF-8)

  if [ -d "$payload/probe" ]; then
    local cp="$payload/probe" e probe
    while IFS= read -r e; do cp="$cp:$payload/$e"; done < <(cat "$payload"/classpath/*.txt | awk '!seen[$0]++')
    probe="$(timeout 60 "$java" "${jvm[@]}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" GpuProbe \
               "$target" "$work/cache" 2>&1 | tail -1 || true)"
    echo "CUDA seen:     ${probe:-(no answer from GpuProbe)}" >>"$summary"
  else
    echo "CUDA seen:     (GpuProbe not in the bundle)" >>"$summary"
  fi

  local m rc module_rc tot_found=0 tot_started=0 tot_ok=0 tot_failed=0 tot_skipped=0 tot_aborted=0 left log t1 n
  final_rc=0
  for cpfile in "$payload"/classpath/*.txt; do
    m="$(basename "$cpfile" .txt)"
    log="$reports/$m.log"
    cp="$launcher"
    while IFS= read -r e; do cp="$cp:$payload/$e"; done <"$cpfile"
    left=$((deadline - $(date +%s)))
    if [ "$left" -le 10 ]; then
      printf "module %-14s not run: the %s s budget (BULKHEAD_GPU_CHECKS_TIMEOUT_S) is spent\n" "$m" "$budget" >>"$summary"
      [ "$final_rc" -ne 0 ] || final_rc=124
      continue
    fi
    echo "== $m (working directory $m/, up to $left s)"
    t1=$SECONDS
    set +e
    # NOTE: the module directory is the working directory, as under surefire: tests find files relative to it.
    # At the deadline, SIGQUIT prints a thread dump, then SIGKILL 20 s later.
    (cd "$root/$m" 2>/dev/null || cd "$root"
     timeout --signal=QUIT --kill-after=20 "$left" "$java" "${jvm[@]}" -cp "$cp" \
       org.junit.platform.console.ConsoleLauncher execute \
       --scan-class-path "$payload/classes/$m/test" --include-package dev.bulkhead --include-tag gpu \
       --include-classname "$surefire_classnames" --disable-banner --disable-ansi-colors \
       --details tree --details-theme ascii --reports-dir "$reports/junit-$m") 2>&1 | tee "$log"
    module_rc=${PIPESTATUS[0]}
    set -e
    local found started ok failed skipped aborted
    found="$(count "$log" 'tests found')"; started="$(count "$log" 'tests started')"
    ok="$(count "$log" 'tests successful')"
    failed="$(count "$log" 'tests failed')"; skipped="$(count "$log" 'tests skipped')"
    aborted="$(count "$log" 'tests aborted')"
    {
      printf 'module %-14s rc=%s  found=%s started=%s succeeded=%s failed=%s skipped=%s aborted=%s  (%d s)%s\n' \
        "$m" "$module_rc" "${found:-?}" "${started:-?}" "${ok:-?}" "${failed:-?}" "${skipped:-?}" "${aborted:-?}" \
        $((SECONDS - t1)) "$( { [ "$module_rc" = 124 ] || [ "$module_rc" = 137 ]; } && echo '  TIMED OUT (thread dump in the log)')"
      not_passed "$log" | cut -c1-400 | sed 's/^/    /' | head -60
    } >>"$summary"
    tot_started=$((tot_started + ${started:-0})); tot_found=$((tot_found + ${found:-0})); tot_ok=$((tot_ok + ${ok:-0})); tot_failed=$((tot_failed + ${failed:-0}))
    tot_skipped=$((tot_skipped + ${skipped:-0})); tot_aborted=$((tot_aborted + ${aborted:-0}))
    [ "$final_rc" -ne 0 ] || final_rc=$module_rc
  done
  {
    echo "tests:         found=$tot_found started=$tot_started succeeded=$tot_ok failed=$tot_failed" \
         "skipped=$tot_skipped aborted=$tot_aborted"
    echo "               (aborted: an assumption skipped it, [A] above with the reason; found but not started: its" \
         "class was aborted; skipped: @Disabled)"
    if [ "$tot_ok" -lt "$tot_found" ] && [ "$tot_failed" -eq 0 ]; then
      echo "WARNING:       only $tot_ok of $tot_found gpu tests ran and passed on this $target: the [A] lines say why" \
           "(emulator-only tests abort on a device; see also 'CUDA seen')"
    fi
    echo "time:          $(( $(date +%s) - run_started )) s"
    echo "reports:       $reports (junit-<module>/, <module>.log)"
    echo "exit status:   $final_rc"
  } >>"$summary"
  echo
  cat "$summary"
  return "$final_rc"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run_checks "${1:-device}" ;;
  *) echo "usage: $0 prepare | run [device|emulator]" >&2; exit 2 ;;
esac
