package dev.bulkhead.router;

/**
 * How one model's health is checked. Zero means the default.
 *
 * @param livenessTimeoutMillis  an engine loop whose heartbeat is older than this is stuck, default 5 000
 * @param readinessIntervalMillis how often a real tiny forward step is run, default 1 000
 * @param readinessTimeoutMillis the probe's deadline, default 2 000
 */
public record HealthSpec(long livenessTimeoutMillis, long readinessIntervalMillis, long readinessTimeoutMillis) {

    public HealthSpec {
        livenessTimeoutMillis = livenessTimeoutMillis == 0 ? 5_000 : livenessTimeoutMillis;
        readinessIntervalMillis = readinessIntervalMillis == 0 ? 1_000 : readinessIntervalMillis;
        readinessTimeoutMillis = readinessTimeoutMillis == 0 ? 2_000 : readinessTimeoutMillis;
        if (livenessTimeoutMillis < 1 || readinessIntervalMillis < 1 || readinessTimeoutMillis < 1) {
            throw new IllegalArgumentException("health livenessTimeoutMillis, readinessIntervalMillis and "
                    + "readinessTimeoutMillis must be >= 1, got " + livenessTimeoutMillis + ", "
                    + readinessIntervalMillis + ", " + readinessTimeoutMillis);
        }
    }

    public static HealthSpec defaults() {
        return new HealthSpec(0, 0, 0);
    }
}
