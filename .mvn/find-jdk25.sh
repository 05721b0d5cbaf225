# Sourced by ./mvnw and ./bulkhead: exports JAVA_HOME pointing at a JDK 25 or newer, or stops with a message
# saying how to get one. Order: JAVA_HOME when it is 25+, then /usr/lib/jvm/*25*, then any newer JDK there,
# then `java` on the PATH.
bulkhead_java_major() {
  # prints the feature version of the java binary given, e.g. 25 (empty when it cannot be read)
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

bulkhead_find_jdk25() {
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(bulkhead_java_major "$JAVA_HOME/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then return 0; fi
  fi
  set +f
  for candidate in /usr/lib/jvm/*25* /usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    if [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ]; then
      major=$(bulkhead_java_major "$candidate/bin/java")
      if [ -n "$major" ] && [ "$major" -ge 25 ]; then
        JAVA_HOME="$candidate"; export JAVA_HOME; set -f; return 0
      fi
    fi
  done
  set -f
  if command -v javac >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then
    major=$(bulkhead_java_major "$(command -v java)")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")"); export JAVA_HOME; return 0
    fi
  fi
  echo "Bulkhead needs a JDK 25 or newer and found none (JAVA_HOME=${JAVA_HOME-unset}, nothing 25+ under /usr/lib/jvm)." >&2
  echo "Install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or download it from https://adoptium.net," >&2
  echo "then set JAVA_HOME to it or put it under /usr/lib/jvm." >&2
  exit 1
}
bulkhead_find_jdk25
