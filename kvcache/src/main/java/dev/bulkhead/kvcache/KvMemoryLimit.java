package dev.bulkhead.kvcache;

/**
 * The most memory an automatically sized KV pool may take, and where that figure comes from. The backend that
 * owns the pool decides it (the CPU backend from the Java heap, the CUDA backend from a fixed default); this type
 * only carries it to {@link AutoKvBudget} and into its messages.
 *
 * @param bytes  the most the KV pool may take ({@code >= 0}; 0 when nothing is left)
 * @param source what the limit is, in words a user can act on (e.g. which heap figures it came from)
 */
public record KvMemoryLimit(long bytes, String source) {

    public KvMemoryLimit {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
        }
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("source must say where the limit comes from");
        }
    }
}
