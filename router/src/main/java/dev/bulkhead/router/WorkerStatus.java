package dev.bulkhead.router;

/**
 * A worker process as the router sees it.
 *
 * @param pid           its process id
 * @param rssBytes      its resident set (VmRSS), -1 where /proc is not available
 * @param heapUsedBytes Java heap in use, from its last heartbeat
 * @param heapMaxBytes  its heap limit (-Xmx)
 */
public record WorkerStatus(long pid, long rssBytes, long heapUsedBytes, long heapMaxBytes) {
}
