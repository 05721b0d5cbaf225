package dev.bulkhead.router;

/**
 * The watchdog that restarts stuck or crashed engines. Zero means the default.
 *
 * @param tickMillis         how often it checks every model, default 50
 * @param maxRestarts        quick restarts in a row without the model becoming ready, default 3
 * @param backoffBaseMillis  delay before the second quick restart, doubling after, default 200
 * @param backoffMaxMillis   cap of that delay, default 5 000
 * @param deadRetryMillis    after the quick restarts, how often a dead model is tried again, default 30 000
 * @param reloadMillis       how often the config file is checked for changes (hot reload), default 1 000
 * @param restartPeriodMillis the restart intensity's period (OTP's): more than {@code maxRestarts} restarts of one
 *                           model within it, ready in between or not, and it is DEAD, retried every
 *                           {@code deadRetryMillis}; default 60 000
 */
public record WatchdogSpec(long tickMillis, int maxRestarts, long backoffBaseMillis, long backoffMaxMillis,
                           long deadRetryMillis, long reloadMillis, long restartPeriodMillis) {

    public WatchdogSpec {
        tickMillis = tickMillis == 0 ? 50 : tickMillis;
        maxRestarts = maxRestarts == 0 ? 3 : maxRestarts;
        backoffBaseMillis = backoffBaseMillis == 0 ? 200 : backoffBaseMillis;
        backoffMaxMillis = backoffMaxMillis == 0 ? 5_000 : backoffMaxMillis;
        deadRetryMillis = deadRetryMillis == 0 ? 30_000 : deadRetryMillis;
        reloadMillis = reloadMillis == 0 ? 1_000 : reloadMillis;
        restartPeriodMillis = restartPeriodMillis == 0 ? 60_000 : restartPeriodMillis;
        if (tickMillis < 1 || maxRestarts < 1 || backoffBaseMillis < 1 || backoffMaxMillis < backoffBaseMillis
                || deadRetryMillis < 1 || reloadMillis < 1 || restartPeriodMillis < 1) {
            throw new IllegalArgumentException("watchdog values must be >= 1 and backoffMaxMillis >= "
                    + "backoffBaseMillis, got tick " + tickMillis + ", maxRestarts " + maxRestarts + ", backoff "
                    + backoffBaseMillis + ".." + backoffMaxMillis + ", deadRetry " + deadRetryMillis + ", reload "
                    + reloadMillis + ", restartPeriod " + restartPeriodMillis);
        }
    }

    /** With the default restart period. */
    public WatchdogSpec(long tickMillis, int maxRestarts, long backoffBaseMillis, long backoffMaxMillis,
                        long deadRetryMillis, long reloadMillis) {
        this(tickMillis, maxRestarts, backoffBaseMillis, backoffMaxMillis, deadRetryMillis, reloadMillis, 0);
    }

    public static WatchdogSpec defaults() {
        return new WatchdogSpec(0, 0, 0, 0, 0, 0, 0);
    }

    /** Delay before restart number {@code failures} (1-based) in a row: 0, base, 2 base, ... up to the cap. */
    public long backoffMillis(int failures) {
        if (failures <= 1) {
            return 0;
        }
        if (failures > maxRestarts) {
            return deadRetryMillis;
        }
        return Math.min(backoffMaxMillis, backoffBaseMillis << Math.min(20, failures - 2));
    }
}
