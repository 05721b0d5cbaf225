package dev.bulkhead.router;

import io.micrometer.core.instrument.Meter;

/**
 * Where {@link EngineMeterBridge} reads one model's current engine meters, by the id the engine registered them
 * under: the engine's own registry in this JVM ({@link RegistryMeterSource}) or the last readings of its worker
 * process ({@link WorkerMeterCache}). Each read answers for whichever engine serves the model now.
 */
interface EngineMeterSource {

    /** A gauge's value now; NaN while there is none. */
    double gauge(Meter.Id id);

    /** A counter's count; 0 while there is none. */
    double count(Meter.Id id);

    /** A timer's number of events; 0 while there is none. */
    long timerCount(Meter.Id id);

    /** A timer's total time in nanoseconds; 0 while there is none. */
    double timerNanos(Meter.Id id);
}
