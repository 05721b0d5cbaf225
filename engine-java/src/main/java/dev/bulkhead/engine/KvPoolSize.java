package dev.bulkhead.engine;

import dev.bulkhead.kvcache.AutoKvBudget;
import dev.bulkhead.kvcache.KvMemoryLimit;
import java.util.function.Supplier;

/**
 * The KV budget an engine starts with and, for its start log line, how it was chosen: as set, or automatically
 * ({@link EngineOptions#KV_CACHE_AUTO}) from the demand or the memory cap.
 *
 * @param budgetBytes the byte budget of the pool
 * @param description the size and where it came from, e.g. "40.0 MiB auto-sized to the demand of 64 sequences of
 *                    512 tokens"
 */
record KvPoolSize(long budgetBytes, String description) {

    /**
     * The budget for {@code options} at context {@code maxModelLen}; {@code limit} is asked only for an automatic
     * size (measuring the heap is not free, and an explicit size needs no measure).
     */
    static KvPoolSize choose(EngineOptions options, int maxModelLen, long kvBytesPerToken,
                             Supplier<KvMemoryLimit> limit) {
        if (!options.isKvCacheAuto()) {
            return new KvPoolSize(options.kvCacheBytes(), AutoKvBudget.mib(options.kvCacheBytes()) + " as set");
        }
        AutoKvBudget b = AutoKvBudget.size(options.blockSize(), kvBytesPerToken, maxModelLen, options.maxRunning(),
                limit.get());
        String demand = "the demand of " + options.maxRunning() + " sequences of " + maxModelLen + " tokens";
        return new KvPoolSize(b.budgetBytes(), AutoKvBudget.mib(b.budgetBytes()) + switch (b.bound()) {
            case DEMAND -> " auto-sized to " + demand;
            case MEMORY -> " auto-sized to the memory cap, " + b.limit().source() + " (" + demand + " is "
                    + AutoKvBudget.mib(b.demandBytes()) + ")";
        });
    }
}
