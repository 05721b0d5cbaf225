package dev.bulkhead.router;

/**
 * Caps retries (attempts after a failed attempt) across the router, like Finagle's retry budget: every request
 * deposits {@code ratio} of a token up to {@code burst}, every retry spends one. When a model fails, its
 * fallbacks therefore see at most {@code 1 + ratio} times the traffic, never a retry storm.
 */
final class RetryBudget {

    private final double ratio;
    private final double burst;
    private double tokens;

    RetryBudget(double ratio, int burst) {
        this.ratio = ratio;
        this.burst = burst;
        this.tokens = burst;
    }

    synchronized void onRequest() {
        tokens = Math.min(burst, tokens + ratio);
    }

    synchronized boolean tryRetry() {
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
