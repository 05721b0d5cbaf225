package dev.bulkhead.router;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How the router starts a worker JVM: the same {@code java} and class path as the router's, so a worker is the same
 * jar at the same version. {@code bulkhead serve} starts {@code BulkheadCli worker ...}; embedders and tests start
 * {@code dev.bulkhead.router.worker.WorkerMain} directly.
 *
 * @param javaCommand the {@code java} executable
 * @param classPath   the class path
 * @param mainClass   the worker's main class
 * @param leadingArgs arguments before the worker's own (e.g. {@code worker}, the CLI's subcommand)
 * @param device      the backend every worker uses ({@code cpu}, {@code cuda[:N]}, {@code cuda-emulator}, ...)
 */
public record WorkerLauncher(String javaCommand, String classPath, String mainClass, List<String> leadingArgs,
                             String device) {

    /** The worker's main class inside this module. */
    public static final String WORKER_MAIN = "dev.bulkhead.router.worker.WorkerMain";

    // NOTE: what the CPU backend and the FFM bindings need, as the launcher passes them to every command.
    private static final List<String> MODULE_FLAGS = List.of("--add-modules", "jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED");

    public WorkerLauncher {
        Objects.requireNonNull(javaCommand, "javaCommand");
        Objects.requireNonNull(classPath, "classPath");
        Objects.requireNonNull(mainClass, "mainClass");
        leadingArgs = leadingArgs == null ? List.of() : List.copyOf(leadingArgs);
        device = device == null || device.isBlank() ? "cpu" : device;
    }

    /** Workers of {@code mainClass} on this JVM's {@code java} and class path, on {@code device}. */
    public static WorkerLauncher sameJvm(String mainClass, List<String> leadingArgs, String device) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new WorkerLauncher(java, System.getProperty("java.class.path"), mainClass, leadingArgs, device);
    }

    /** {@link #WORKER_MAIN} on this JVM's class path, on the CPU. */
    public static WorkerLauncher defaults() {
        return sameJvm(WORKER_MAIN, List.of(), "cpu");
    }

    /**
     * The command line of one worker.
     *
     * @param heapBytes  its -Xmx
     * @param socket     where the router listens for it
     * @param errorFile  the JVM fatal error report's path ({@code %p} is the pid)
     * @param faults     drill settings passed on when drills are enabled
     */
    java.util.List<String> command(ModelSpec spec, long heapBytes, Path socket, Path errorFile, FaultSpec faults) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaCommand);
        cmd.add("-Xmx" + (heapBytes >> 20) + "m");
        cmd.add("-XX:MaxDirectMemorySize=" + (spec.worker().directMemoryBytes() >> 20) + "m");
        // NOTE: a worker whose heap ran out may have lost any thread; it exits and is restarted on a fresh heap.
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-XX:-CreateCoredumpOnCrash");
        cmd.add("-XX:ErrorFile=" + errorFile);
        // NOTE: one GC thread: a worker whose heap thrashes (or that collects at all) takes at most one core from
        // its neighbours, and a small heap (the KV pool is allocated once) needs no more; it also keeps RSS low.
        // A model whose jvmOptions pick a collector keeps it (the JVM refuses two).
        if (spec.worker().jvmOptions().stream().noneMatch(o -> o.matches("-XX:\\+Use\\w+GC"))) {
            cmd.add("-XX:+UseSerialGC");
        }
        cmd.addAll(MODULE_FLAGS);
        inheritedProperties().forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(spec.worker().jvmOptions());
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(mainClass);
        cmd.addAll(leadingArgs);
        EngineSpec e = spec.engine();
        cmd.addAll(List.of("--model", spec.name(), "--socket", socket.toString(),
                "--parent-pid", Long.toString(ProcessHandle.current().pid()), "--device", device,
                "--threads", Integer.toString(e.threads()), "--block-size", Integer.toString(e.blockSize()),
                "--kv-cache-bytes", Long.toString(e.kvCacheBytes()),
                "--max-batched-tokens", Integer.toString(e.maxBatchedTokens()),
                "--max-running", Integer.toString(e.maxRunning()), "--max-model-len", Integer.toString(e.maxModelLen()),
                "--prefix-caching", Boolean.toString(e.prefixCaching()),
                "--heartbeat-millis", Long.toString(spec.worker().heartbeatMillis())));
        if (spec.source() != null && !spec.source().isBlank()) {
            cmd.addAll(List.of("--source", spec.source()));
        }
        if (faults.enabled()) {
            cmd.addAll(List.of("--faults", faults.slowStepMillis() + "," + faults.hangMillis()));
        }
        return cmd;
    }

    /** This JVM's Bulkhead and logging settings, which a worker must share (caches, invariants, log levels). */
    private static Map<String, String> inheritedProperties() {
        Map<String, String> out = new TreeMap<>();
        System.getProperties().forEach((k, v) -> {
            String key = k.toString();
            if (key.startsWith("bulkhead.") || key.startsWith("org.slf4j.")) {
                out.put(key, v.toString());
            }
        });
        return out;
    }
}
