package dev.bulkhead.router;

import java.util.List;

/**
 * How a model's worker process is run and watched (used when its isolation is {@link Isolation#PROCESS}). Zero
 * (or absent in a config file) means the default named below.
 *
 * @param heapBytes           the worker's -Xmx; default 256 MiB + KV pool × 4/3 + min(weights / 16, 1 GiB), rounded up
 *                            to 64 MiB (the launcher's formula for one model; the KV pool counts only on the CPU)
 * @param directMemoryBytes   its -XX:MaxDirectMemorySize, default 64 MiB
 * @param heartbeatMillis     how often it reports, default 100
 * @param startTimeoutMillis  longest wait for it to load and report ready, default 120 000
 * @param writeStallMillis    a frame the worker has not taken for this long means it stopped reading, default 2 000
 * @param floodBytesPerSecond more than this from one worker means it floods its socket, default 64 MiB/s
 * @param jvmOptions          extra JVM options, after the ones the router sets
 */
public record WorkerSpec(long heapBytes, long directMemoryBytes, long heartbeatMillis, long startTimeoutMillis,
                         long writeStallMillis, long floodBytesPerSecond, List<String> jvmOptions) {

    public WorkerSpec {
        directMemoryBytes = directMemoryBytes == 0 ? 64L << 20 : directMemoryBytes;
        heartbeatMillis = heartbeatMillis == 0 ? 100 : heartbeatMillis;
        startTimeoutMillis = startTimeoutMillis == 0 ? 120_000 : startTimeoutMillis;
        writeStallMillis = writeStallMillis == 0 ? 2_000 : writeStallMillis;
        floodBytesPerSecond = floodBytesPerSecond == 0 ? 64L << 20 : floodBytesPerSecond;
        jvmOptions = jvmOptions == null ? List.of() : List.copyOf(jvmOptions);
        if (heapBytes < 0 || directMemoryBytes < 1 || heartbeatMillis < 1 || startTimeoutMillis < 1
                || writeStallMillis < 1 || floodBytesPerSecond < 1) {
            throw new IllegalArgumentException("worker heapBytes must be >= 0 and directMemoryBytes, heartbeatMillis, "
                    + "startTimeoutMillis, writeStallMillis and floodBytesPerSecond >= 1, got " + heapBytes + ", "
                    + directMemoryBytes + ", " + heartbeatMillis + ", " + startTimeoutMillis + ", " + writeStallMillis
                    + ", " + floodBytesPerSecond);
        }
    }

    public static WorkerSpec defaults() {
        return new WorkerSpec(0, 0, 0, 0, 0, 0, null);
    }

    /**
     * The heap a worker needs for {@code weightBytes} of mapped weights and a KV pool of {@code kvBytes} on the Java
     * heap (0 when it lives on a GPU), unless {@link #heapBytes()} sets it.
     */
    public long heapFor(long weightBytes, long kvBytes) {
        if (heapBytes > 0) {
            return heapBytes;
        }
        long mib = 1L << 20;
        long heap = 256 * mib + kvBytes / 3 * 4 + Math.min(weightBytes / 16, 1024 * mib);
        return (heap + 64 * mib - 1) / (64 * mib) * (64 * mib);
    }
}
