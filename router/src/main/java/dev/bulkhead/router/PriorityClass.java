package dev.bulkhead.router;

/**
 * Admission classes. Each has its own bounded queue per model, so a flood of batch work cannot take the
 * places of interactive requests. Mapped from {@code GenerateRequest.priority} (lower is more important).
 */
public enum PriorityClass {
    /** priority &lt;= 0 */
    INTERACTIVE,
    /** priority 1 */
    STANDARD,
    /** priority &gt;= 2 */
    BATCH;

    /** The class of a request priority. */
    public static PriorityClass of(int priority) {
        return priority <= 0 ? INTERACTIVE : priority == 1 ? STANDARD : BATCH;
    }
}
