package dev.bulkhead.scheduler;

import dev.bulkhead.kvcache.KvCacheStats;

/**
 * A snapshot of scheduler counters.
 *
 * @param steps          non-empty steps scheduled
 * @param numWaiting     requests waiting (new or preempted)
 * @param numRunning     requests holding KV blocks
 * @param numPreemptions preemptions so far
 * @param numFinished    requests finished so far, any reason
 * @param kv             the KV pool, including prefix cache queries and hits
 */
public record SchedulerStats(long steps, int numWaiting, int numRunning, long numPreemptions, long numFinished,
                             KvCacheStats kv) {

    /** Fraction of queried prompt tokens served by the prefix cache. */
    public double prefixCacheHitRate() {
        return kv.hitRate();
    }

    /** Fraction of KV blocks held by requests. */
    public double kvUsage() {
        return kv.usage();
    }
}
