package dev.bulkhead.router;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * One router's worker processes: the private directory their sockets and fatal error reports live in (created
 * {@code 0700}, so no other user can connect), and every process spawned, so that none outlives the router.
 */
final class WorkerDirectory {

    private final Path path;
    private final Set<Process> live = ConcurrentHashMap.newKeySet();

    private WorkerDirectory(Path path) {
        this.path = path;
    }

    static WorkerDirectory create() {
        try {
            // NOTE: createTempDirectory makes it owner-only on POSIX file systems.
            return new WorkerDirectory(Files.createTempDirectory("bulkhead-workers-"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the worker socket directory", e);
        }
    }

    Path path() {
        return path;
    }

    /** Tracks a spawned worker until it exits. */
    void spawned(Process p) {
        live.add(p);
        p.onExit().thenRun(() -> live.remove(p));
    }

    /** SIGKILL to every worker still running. */
    void killAll() {
        live.forEach(Process::destroyForcibly);
    }

    /** Kills what is left and removes the directory (sockets, and the error reports of crashes). */
    void delete() {
        killAll();
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // NOTE: a leftover temp directory is harmless; the error reports in it may even be wanted.
        }
    }
}
