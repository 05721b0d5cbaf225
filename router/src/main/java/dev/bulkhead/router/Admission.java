package dev.bulkhead.router;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * One model's bounded admission: a permit per request in flight through the router, per priority class.
 * Never blocks: a full class is an immediate "no", so overload is shed at the door instead of queueing
 * towards a timeout. Survives engine restarts (it belongs to the model, not to the engine).
 */
final class Admission {

    private final Map<PriorityClass, Semaphore> permits = new EnumMap<>(PriorityClass.class);
    private final QueueLimits limits;

    Admission(QueueLimits limits) {
        this.limits = limits;
        for (PriorityClass c : PriorityClass.values()) {
            permits.put(c, new Semaphore(limits.limit(c)));
        }
    }

    boolean tryAcquire(PriorityClass c) {
        return permits.get(c).tryAcquire();
    }

    void release(PriorityClass c) {
        permits.get(c).release();
    }

    /** Requests admitted and not finished, over all classes. */
    int inUse() {
        int n = 0;
        for (PriorityClass c : PriorityClass.values()) {
            n += limits.limit(c) - permits.get(c).availablePermits();
        }
        return n;
    }
}
