#!/usr/bin/env bash
# Builds the container's Java runtime: a jlinked JDK 25 image holding only the modules in runtime-modules.txt.
#   deploy/container/jlink-runtime.sh OUTPUT_DIR        # OUTPUT_DIR must not exist; it gets bin/java, lib/, conf/
# The JDK is $JAVA_HOME when it is 25 or newer, else the one ./mvnw would pick (.mvn/find-jdk25.sh). A JDK 25
# without jmods/ (Temurin 25 and others ship without them) links from its own run-time image (JEP 493).
# The Dockerfile runs this script in its build stage; CI runs it through ContainerRuntimeTest (the deploy module).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${1:?usage: jlink-runtime.sh OUTPUT_DIR}"
if [ -e "$OUT" ]; then
  echo "jlink-runtime.sh: $OUT exists; jlink writes a new directory (remove it first)" >&2
  exit 2
fi
if [ -f "$ROOT/.mvn/find-jdk25.sh" ]; then
  . "$ROOT/.mvn/find-jdk25.sh"
fi
: "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"

# Strip comments and blanks, join with commas.
MODULES=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$HERE/runtime-modules.txt" | grep -v '^$' | paste -sd, -)

# NOTE: --strip-debug drops local variable tables only (stack traces keep file and line numbers);
# zip-6 is jlink's default level, traded against a bigger image for faster class loading at start-up.
"$JAVA_HOME/bin/jlink" \
  --add-modules "$MODULES" \
  --output "$OUT" \
  --strip-debug --no-man-pages --no-header-files \
  --compress=zip-6
echo "jlink-runtime.sh: $OUT ($MODULES)"
