package dev.bulkhead.router;

/**
 * Request policy of the router. Zero means the default.
 *
 * @param defaultDeadlineMillis deadline of requests that carry none, default 30 000
 * @param attemptShare          share of the remaining time one attempt may use when the chain has more entries,
 *                              so a fallback still has time, default 0.5
 * @param minAttemptMillis      shortest attempt timeout, default 250
 * @param attemptSlack          attempt timeout as a multiple of the model's latency estimate, default 4
 * @param retryBudgetRatio      retries (attempts after a failed one) allowed per request, on average, default 0.5
 * @param retryBudgetBurst      retries allowed in a burst before the ratio applies, default 20
 * @param cacheEntries          last good answers kept for the {@value Route#CACHE} fallback, default 1 024
 */
public record PolicySpec(long defaultDeadlineMillis, double attemptShare, long minAttemptMillis, double attemptSlack,
                         double retryBudgetRatio, int retryBudgetBurst, int cacheEntries) {

    public PolicySpec {
        defaultDeadlineMillis = defaultDeadlineMillis == 0 ? 30_000 : defaultDeadlineMillis;
        attemptShare = attemptShare == 0 ? 0.5 : attemptShare;
        minAttemptMillis = minAttemptMillis == 0 ? 250 : minAttemptMillis;
        attemptSlack = attemptSlack == 0 ? 4 : attemptSlack;
        retryBudgetRatio = retryBudgetRatio == 0 ? 0.5 : retryBudgetRatio;
        retryBudgetBurst = retryBudgetBurst == 0 ? 20 : retryBudgetBurst;
        cacheEntries = cacheEntries == 0 ? 1_024 : cacheEntries;
        if (defaultDeadlineMillis < 1 || minAttemptMillis < 1 || retryBudgetBurst < 1 || cacheEntries < 1) {
            throw new IllegalArgumentException("policy defaultDeadlineMillis, minAttemptMillis, retryBudgetBurst and "
                    + "cacheEntries must be >= 1, got " + defaultDeadlineMillis + ", " + minAttemptMillis + ", "
                    + retryBudgetBurst + ", " + cacheEntries);
        }
        if (!(attemptShare > 0 && attemptShare <= 1) || !(attemptSlack >= 1) || !(retryBudgetRatio > 0)) {
            throw new IllegalArgumentException("policy attemptShare must be in (0, 1], attemptSlack >= 1 and "
                    + "retryBudgetRatio > 0, got " + attemptShare + ", " + attemptSlack + ", " + retryBudgetRatio);
        }
    }

    public static PolicySpec defaults() {
        return new PolicySpec(0, 0, 0, 0, 0, 0, 0);
    }
}
