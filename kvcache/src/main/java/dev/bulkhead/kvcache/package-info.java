/**
 * The paged KV cache's bookkeeping, in pure Java: a fixed pool of blocks of {@code blockSize} token slots,
 * per-sequence block tables, and a prefix cache over full blocks keyed by a hash chain.
 *
 * <p>{@link dev.bulkhead.kvcache.KvCacheManager} is the one type a scheduler talks to; it never sees a tensor.
 * The pool is sized once from a {@link dev.bulkhead.kvcache.MemoryBudget} and never grows at request time; an
 * automatic budget ({@link dev.bulkhead.kvcache.AutoKvBudget}) is the demand of the running sequences at the full
 * context, capped by the {@link dev.bulkhead.kvcache.KvMemoryLimit} the backend gives.
 */
package dev.bulkhead.kvcache;
