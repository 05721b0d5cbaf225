package dev.bulkhead.router;

/**
 * Bounded admission per model and priority class: requests admitted and not finished. Zero means the default.
 *
 * @param interactive default 64
 * @param standard    default 32
 * @param batch       default 8 (batch work is shed first)
 */
public record QueueLimits(int interactive, int standard, int batch) {

    public QueueLimits {
        interactive = positive("interactive", interactive, 64);
        standard = positive("standard", standard, 32);
        batch = positive("batch", batch, 8);
    }

    public static QueueLimits defaults() {
        return new QueueLimits(0, 0, 0);
    }

    /** The limit of one class. */
    public int limit(PriorityClass c) {
        return switch (c) {
            case INTERACTIVE -> interactive;
            case STANDARD -> standard;
            case BATCH -> batch;
        };
    }

    private static int positive(String field, int v, int dflt) {
        if (v < 0 || v > 1 << 20) {
            throw new IllegalArgumentException("queue." + field + " must be in [1, " + (1 << 20) + "], got " + v);
        }
        return v == 0 ? dflt : v;
    }
}
