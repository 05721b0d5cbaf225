package dev.bulkhead.router;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker JVM: spawned on a fresh socket, connected, its output relayed to this process's log (a logger per
 * model, {@code dev.bulkhead.worker.NAME}), and, once it ended, a description of how it ended that names the
 * signal, the native crash or the heap exhaustion.
 */
final class WorkerProcess {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerProcess.class);
    private static final int TAIL_LINES = 40;

    private final String model;
    private final Process process;
    private final Path errorFile;
    private final Deque<String> tail = new ArrayDeque<>();
    private final Logger out;

    private WorkerProcess(String model, Process process, Path errorFile) {
        this.model = model;
        this.process = process;
        this.errorFile = errorFile;
        this.out = LoggerFactory.getLogger("dev.bulkhead.worker." + model);
        Thread.ofVirtual().name("bulkhead-worker-output-" + model).start(this::pump);
    }

    /** A started worker and its connection. */
    record Started(WorkerProcess process, SocketChannel channel) {
    }

    /**
     * Starts a worker of {@code spec} and waits until it connects back on a socket in {@code dir}, at most its
     * start timeout. The socket file is gone once connected.
     *
     * @throws ModelLoadException the worker died or did not connect in time (not permanent: it may be retried)
     */
    static Started start(ModelSpec spec, WorkerLauncher launcher, FaultSpec faults, WorkerDirectory workers, String id,
                         long heapBytes) throws IOException, InterruptedException {
        Path socket = workers.path().resolve(id + ".sock");
        Files.deleteIfExists(socket);
        Path errorFile = workers.path().resolve("hs_err_" + id + "_%p.log");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket), 1);
            List<String> cmd = launcher.command(spec, heapBytes, socket, errorFile, faults);
            LOG.debug("starting worker of {}: {}", spec.name(), cmd);
            // NOTE: stdin stays a pipe the worker reads to its end: the kernel closes it when this process dies,
            // however it dies, and the worker then exits (no orphan).
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            workers.spawned(p);
            WorkerProcess w = new WorkerProcess(spec.name(), p, errorFile);
            CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
            Thread.ofVirtual().name("bulkhead-worker-accept-" + spec.name()).start(() -> {
                try {
                    accepted.complete(server.accept());
                } catch (IOException e) {
                    accepted.completeExceptionally(e);
                }
            });
            p.onExit().thenRun(() -> accepted.completeExceptionally(new IOException("exited before connecting")));
            try {
                return new Started(w, accepted.get(spec.worker().startTimeoutMillis(), TimeUnit.MILLISECONDS));
            } catch (ExecutionException | TimeoutException e) {
                w.kill();
                throw new ModelLoadException(spec.name(), "worker of " + spec.name() + " did not connect within "
                        + spec.worker().startTimeoutMillis() + " ms: " + w.describeExit(), false);
            }
        } finally {
            server.close();
            Files.deleteIfExists(socket);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    /** SIGKILL. */
    void kill() {
        process.destroyForcibly();
    }

    /** Waits for the process to end; true when it did within {@code millis}. */
    boolean awaitExit(long millis) {
        try {
            return process.waitFor(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** Its resident set in bytes, from /proc; -1 where that cannot be read. */
    long rssBytes() {
        return ProcessMemory.rssBytes(process.pid());
    }

    /**
     * How the process ended, in words: {@code killed by SIGKILL (signal 9)}, {@code crashed in native code: SIGSEGV
     * ...}, {@code ran out of Java heap ...}, {@code exited with status N}; waits up to a second for the exit.
     */
    String describeExit() {
        if (!awaitExit(1_000)) {
            return "still running (pid " + process.pid() + ")";
        }
        int code = process.exitValue();
        Path report = Path.of(errorFile.toString().replace("%p", Long.toString(process.pid())));
        Optional<String> crash = crashLine(report);
        if (crash.isPresent()) {
            return "crashed in native code: " + crash.get() + " (JVM fatal error report " + report + ")";
        }
        if (tailContains("OutOfMemoryError")) {
            return "ran out of Java heap and exited (-XX:+ExitOnOutOfMemoryError, status " + code + ")";
        }
        // NOTE: the JDK reports a death by signal N as exit value 128 + N.
        if (code > 128 && code < 128 + 65) {
            int sig = code - 128;
            return "killed by " + signalName(sig) + " (signal " + sig + ")";
        }
        return "exited with status " + code;
    }

    private static Optional<String> crashLine(Path report) {
        if (!Files.isRegularFile(report)) {
            return Optional.empty();
        }
        try (var lines = Files.lines(report, StandardCharsets.ISO_8859_1)) {
            return Optional.of(lines.limit(20).map(String::strip).filter(l -> l.matches("#\\s+SIG[A-Z]+.*"))
                    .map(l -> l.substring(1).strip()).findFirst().orElse("fatal error"));
        } catch (IOException e) {
            return Optional.of("fatal error");
        }
    }

    private synchronized boolean tailContains(String s) {
        return tail.stream().anyMatch(l -> l.contains(s));
    }

    private static String signalName(int sig) {
        return switch (sig) {
            case 1 -> "SIGHUP";
            case 2 -> "SIGINT";
            case 6 -> "SIGABRT";
            case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV";
            case 15 -> "SIGTERM";
            default -> "signal " + sig;
        };
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (this) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                relay(line);
            }
        } catch (IOException e) {
            LOG.debug("output of worker {} ended: {}", model, e.toString());
        }
    }

    /** A worker line at the level it was logged at; JVM messages (crash banners, OOM) as warnings. */
    private void relay(String line) {
        long pid = process.pid();
        if (line.contains("] ERROR ")) {
            out.error("[pid {}] {}", pid, line);
        } else if (line.contains("] WARN ")) {
            out.warn("[pid {}] {}", pid, line);
        } else if (line.contains("] DEBUG ") || line.contains("] TRACE ")) {
            out.debug("[pid {}] {}", pid, line);
        } else if (line.startsWith("[") || line.startsWith("WARNING: Using incubator modules")) {
            out.info("[pid {}] {}", pid, line);
        } else if (!line.isBlank() && !line.equals("#")) {
            out.warn("[pid {}] {}", pid, line);
        }
    }
}
