package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Serves one request down its route's chain: the picked target, then each fallback, then the cached answer.
 * A model is skipped without waiting when it is not ready, its breaker is open, its queue for the request's
 * class is full, or its latency estimate cannot meet the deadline; each real attempt gets a share of the
 * remaining time so later entries still can answer, and retries after a failure spend the retry budget.
 */
final class RequestRouter {

    private final Map<String, ModelSlot> slots;
    private final Supplier<RoutingTable> table;
    private final PolicySpec policy;
    private final RetryBudget retries;
    private final AnswerCache cache;
    private final RouterMetrics metrics;

    RequestRouter(Map<String, ModelSlot> slots, Supplier<RoutingTable> table, PolicySpec policy, RouterMetrics metrics) {
        this.slots = Map.copyOf(slots);
        this.table = table;
        this.policy = policy;
        this.retries = new RetryBudget(policy.retryBudgetRatio(), policy.retryBudgetBurst());
        this.cache = new AnswerCache(policy.cacheEntries());
        this.metrics = metrics;
    }

    /** Why each skipped entry was skipped, kept to explain a final rejection. */
    private static final class Skips {
        boolean overloaded;
        boolean unmeetable;
        boolean other;
        long retryAfterNanos = Long.MAX_VALUE;
        String last = "";

        void add(RouterRejectedException.Reason r, long retryNanos, String why) {
            switch (r) {
                case OVERLOADED -> overloaded = true;
                case DEADLINE_UNMEETABLE -> unmeetable = true;
                default -> other = true;
            }
            if (retryNanos > 0) {
                retryAfterNanos = Math.min(retryAfterNanos, retryNanos);
            }
            last = why;
        }

        RouterRejectedException reject(String alias) {
            RouterRejectedException.Reason r = other ? RouterRejectedException.Reason.MODEL_UNAVAILABLE
                    : unmeetable ? RouterRejectedException.Reason.DEADLINE_UNMEETABLE
                    : overloaded ? RouterRejectedException.Reason.OVERLOADED
                    : RouterRejectedException.Reason.MODEL_UNAVAILABLE;
            Duration after = Duration.ofNanos(retryAfterNanos == Long.MAX_VALUE ? TimeUnit.SECONDS.toNanos(1) : retryAfterNanos);
            return new RouterRejectedException(r, after, "no model of route '" + alias + "' could serve the request ("
                    + last + ")");
        }
    }

    /** The chain for {@code alias}, or a NO_ROUTE rejection. */
    List<String> chain(String alias) {
        List<String> chain = table.get().chain(alias, slots.keySet(), ThreadLocalRandom.current());
        if (chain.isEmpty()) {
            throw new RouterRejectedException(RouterRejectedException.Reason.NO_ROUTE, Duration.ZERO,
                    "no route or model named '" + alias + "' in routing table v" + table.get().version());
        }
        return chain;
    }

    /** A fast check before anything is queued: rejects a request no entry of the chain can meet in time. */
    Optional<RouterRejectedException> admit(String alias, List<String> chain, GenerateRequest r, long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
            return Optional.of(new RouterRejectedException(RouterRejectedException.Reason.DEADLINE_UNMEETABLE,
                    Duration.ZERO, "the deadline has already passed"));
        }
        Skips skips = new Skips();
        for (String entry : chain) {
            if (Route.CACHE.equals(entry)) {
                return Optional.empty();
            }
            ModelSlot s = slots.get(entry);
            long est = s.estimateNanos(r.sampling().maxTokens());
            if (!s.routable()) {
                skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, entry + " is not ready");
            } else if (est > remaining) {
                skips.add(RouterRejectedException.Reason.DEADLINE_UNMEETABLE, est - remaining,
                        entry + " needs ~" + est / 1_000_000 + " ms, " + remaining / 1_000_000 + " ms left");
            } else {
                return Optional.empty();
            }
        }
        // NOTE: only reject early when time is the problem; models that are merely down may come back within the
        // deadline, and the cached answer is looked at during routing.
        return skips.unmeetable && !skips.other ? Optional.of(skips.reject(alias)) : Optional.empty();
    }

    /** Runs the chain on the calling (virtual) thread. */
    RoutedCompletion route(String alias, List<String> chain, GenerateRequest request, long deadlineNanos) {
        retries.onRequest();
        PriorityClass pc = PriorityClass.of(request.priority());
        Skips skips = new Skips();
        boolean failedBefore = false;
        int attempts = 0;
        for (int i = 0; i < chain.size(); i++) {
            String entry = chain.get(i);
            long remaining = deadlineNanos - System.nanoTime();
            if (remaining <= 0) {
                skips.add(RouterRejectedException.Reason.DEADLINE_UNMEETABLE, 0, "the deadline passed");
                break;
            }
            if (Route.CACHE.equals(entry)) {
                Optional<Completion> hit = cache.get(alias, request);
                if (hit.isPresent()) {
                    return served(alias, hit.get(), Route.CACHE, true, attempts);
                }
                skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, "no cached answer");
                continue;
            }
            ModelSlot s = slots.get(entry);
            boolean hasMore = i < chain.size() - 1;
            long budget = hasMore ? (long) (remaining * policy.attemptShare()) : remaining;
            long est = s.estimateNanos(request.sampling().maxTokens());
            if (!s.routable()) {
                skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, entry + " is not ready");
                continue;
            }
            if (est > budget) {
                skips.add(RouterRejectedException.Reason.DEADLINE_UNMEETABLE, est - budget,
                        entry + " needs ~" + est / 1_000_000 + " ms, has " + budget / 1_000_000 + " ms");
                continue;
            }
            if (failedBefore && !retries.tryRetry()) {
                skips.add(RouterRejectedException.Reason.OVERLOADED, TimeUnit.SECONDS.toNanos(1),
                        "retry budget spent");
                continue;
            }
            CircuitBreaker breaker = s.breaker();
            if (!breaker.tryAcquirePermission()) {
                skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE,
                        TimeUnit.MILLISECONDS.toNanos(s.spec().breaker().openMillis()), entry + " has its breaker open");
                continue;
            }
            if (!s.admission().tryAcquire(pc)) {
                breaker.releasePermission();
                skips.add(RouterRejectedException.Reason.OVERLOADED, Math.max(est, TimeUnit.MILLISECONDS.toNanos(100)),
                        entry + " has its " + pc + " queue full");
                continue;
            }
            long timeout = hasMore ? Math.min(budget, Math.max(TimeUnit.MILLISECONDS.toNanos(policy.minAttemptMillis()),
                    (long) (est * policy.attemptSlack()))) : remaining;
            attempts++;
            try {
                Completion c = s.attempt(request, request.requestId() + "#" + attempts, timeout);
                cache.put(alias, request, c);
                return served(alias, c, entry, i > 0, attempts);
            } catch (AttemptFailedException e) {
                failedBefore = true;
                skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, e.getMessage());
            } finally {
                s.admission().release(pc);
            }
        }
        RouterRejectedException rejected = skips.reject(alias);
        metrics.rejected(alias, rejected.reason());
        throw rejected;
    }

    private RoutedCompletion served(String alias, Completion c, String by, boolean degraded, int attempts) {
        metrics.served(alias, by, degraded);
        return new RoutedCompletion(c, by, degraded, attempts);
    }
}
