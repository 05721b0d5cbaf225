package dev.bulkhead.router;

import java.util.HashMap;
import java.util.Map;

/**
 * The node's memory, split between models. Each engine reserves its weights plus its KV pool before it is
 * built and releases them when it is gone; a reservation that does not fit the model's own budget or the
 * node's free memory fails with the numbers, and never takes anything from another model.
 */
public final class MemoryLedger {

    /**
     * One engine's share, released once.
     *
     * @param model        the owning model
     * @param weightBytes  mapped weights
     * @param kvBytes      KV pool
     */
    public record Reservation(String model, long weightBytes, long kvBytes) {

        public long bytes() {
            return weightBytes + kvBytes;
        }
    }

    /**
     * A point-in-time view.
     *
     * @param nodeBytes        the node's budget
     * @param freeBytes        what is not reserved
     * @param reservedByModel  bytes held per model (several engines while a stuck one is being reaped)
     */
    public record Report(long nodeBytes, long freeBytes, Map<String, Long> reservedByModel) {

        public Report {
            reservedByModel = Map.copyOf(reservedByModel);
        }
    }

    private final long nodeBytes;
    private final Map<String, Long> reserved = new HashMap<>();
    private long used;

    public MemoryLedger(long nodeBytes) {
        if (nodeBytes < 1) {
            throw new IllegalArgumentException("nodeBytes must be >= 1, got " + nodeBytes);
        }
        this.nodeBytes = nodeBytes;
    }

    /**
     * Reserves one engine's memory for {@code model}.
     *
     * @param modelBudget the model's own budget per engine, 0 for none
     * @throws ModelLoadException when it exceeds the model's budget or the node's free memory
     */
    public synchronized Reservation reserve(String model, long weightBytes, long kvBytes, long modelBudget) {
        long need = weightBytes + kvBytes;
        if (modelBudget > 0 && need > modelBudget) {
            throw new ModelLoadException(model, "model " + model + " needs " + need + " bytes (weights " + weightBytes
                    + " + KV pool " + kvBytes + ") but its memoryBudgetBytes is " + modelBudget, true);
        }
        long free = nodeBytes - used;
        if (need > free) {
            throw new ModelLoadException(model, "model " + model + " needs " + need + " bytes (weights " + weightBytes
                    + " + KV pool " + kvBytes + ") but the node has " + free + " of " + nodeBytes
                    + " bytes left (reserved: " + reserved + ")", false);
        }
        used += need;
        reserved.merge(model, need, Long::sum);
        return new Reservation(model, weightBytes, kvBytes);
    }

    /** Gives a reservation back. */
    public synchronized void release(Reservation r) {
        used -= r.bytes();
        reserved.computeIfPresent(r.model(), (k, v) -> v - r.bytes() == 0 ? null : v - r.bytes());
    }

    public synchronized long reservedBy(String model) {
        return reserved.getOrDefault(model, 0L);
    }

    public synchronized Report report() {
        return new Report(nodeBytes, nodeBytes - used, reserved);
    }
}
