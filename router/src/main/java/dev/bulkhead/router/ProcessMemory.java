package dev.bulkhead.router;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's resident set from {@code /proc/PID/status} (Linux); -1 elsewhere or when it is gone. */
final class ProcessMemory {

    private ProcessMemory() {
    }

    static long rssBytes(long pid) {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    String kb = line.substring(6).strip().split("\\s+")[0];
                    return Long.parseLong(kb) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
