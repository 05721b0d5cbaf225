#!/bin/sh
# The image's entrypoint: the server jar on the jlinked runtime with the two flags the engine needs (the Vector API
# for the CPU backend, native access for mmap and CUDA through FFM), plus $BULKHEAD_JAVA_OPTS (heap, GC).
# exec, so the JVM is PID 1's replacement and gets SIGTERM directly (serve drains and stops on it).
# shellcheck disable=SC2086
exec /opt/bulkhead/jre/bin/java $BULKHEAD_JAVA_OPTS \
  --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -jar /opt/bulkhead/bulkhead.jar "$@"
