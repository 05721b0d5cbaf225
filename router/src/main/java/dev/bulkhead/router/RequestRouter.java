package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
    // NOTE: as ModelSlot's: how long past an attempt's timeout the router waits for a first token before moving on.
    private static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

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
            long timeout = clear(entry, s, i < chain.size() - 1, remaining, failedBefore, pc, request, skips);
            if (timeout < 0) {
                continue;
            }
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

    /**
     * Whether {@code entry} may take an attempt now: ready, able to meet its share of the time, retry budget left,
     * breaker closed, a queue permit free. Returns the attempt's timeout with a breaker permission and an admission
     * permit held, or -1 after recording why it was skipped.
     */
    private long clear(String entry, ModelSlot s, boolean hasMore, long remaining, boolean failedBefore,
                       PriorityClass pc, GenerateRequest request, Skips skips) {
        long budget = hasMore ? (long) (remaining * policy.attemptShare()) : remaining;
        long est = s.estimateNanos(request.sampling().maxTokens());
        if (!s.routable()) {
            skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, entry + " is not ready");
            return -1;
        }
        if (est > budget) {
            skips.add(RouterRejectedException.Reason.DEADLINE_UNMEETABLE, est - budget,
                    entry + " needs ~" + est / 1_000_000 + " ms, has " + budget / 1_000_000 + " ms");
            return -1;
        }
        if (failedBefore && !retries.tryRetry()) {
            skips.add(RouterRejectedException.Reason.OVERLOADED, TimeUnit.SECONDS.toNanos(1), "retry budget spent");
            return -1;
        }
        CircuitBreaker breaker = s.breaker();
        if (!breaker.tryAcquirePermission()) {
            skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE,
                    TimeUnit.MILLISECONDS.toNanos(s.spec().breaker().openMillis()), entry + " has its breaker open");
            return -1;
        }
        if (!s.admission().tryAcquire(pc)) {
            breaker.releasePermission();
            skips.add(RouterRejectedException.Reason.OVERLOADED, Math.max(est, TimeUnit.MILLISECONDS.toNanos(100)),
                    entry + " has its " + pc + " queue full");
            return -1;
        }
        return hasMore ? Math.min(budget, Math.max(TimeUnit.MILLISECONDS.toNanos(policy.minAttemptMillis()),
                (long) (est * policy.attemptSlack()))) : remaining;
    }

    /**
     * Streams the chain on the calling (virtual) thread: the first entry that produces a token (or the cached
     * answer, as one delta) serves {@code relay}; {@code origin} completes just before its first delta is
     * published. Entries that fail before their first token are passed over as in {@link #route}.
     */
    void routeStream(String alias, List<String> chain, GenerateRequest request, long deadlineNanos, StreamRelay relay,
                     CompletableFuture<RoutedOrigin> origin, Consumer<StreamAttempt> current) {
        retries.onRequest();
        PriorityClass pc = PriorityClass.of(request.priority());
        Skips skips = new Skips();
        boolean failedBefore = false;
        int attempts = 0;
        try {
            for (int i = 0; i < chain.size() && !relay.cancelled(); i++) {
                String entry = chain.get(i);
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    skips.add(RouterRejectedException.Reason.DEADLINE_UNMEETABLE, 0, "the deadline passed");
                    break;
                }
                if (Route.CACHE.equals(entry)) {
                    Optional<Completion> hit = cache.get(alias, request);
                    if (hit.isPresent()) {
                        Completion c = hit.get();
                        metrics.served(alias, Route.CACHE, true);
                        origin.complete(new RoutedOrigin(Route.CACHE, true, attempts));
                        relay.emit(new TokenDelta(request.requestId(), -1, c.text(), Math.max(0, c.tokenIds().length - 1),
                                c.finishReason()));
                        relay.complete(c);
                        return;
                    }
                    skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, "no cached answer");
                    continue;
                }
                ModelSlot s = slots.get(entry);
                long timeout = clear(entry, s, i < chain.size() - 1, remaining, failedBefore, pc, request, skips);
                if (timeout < 0) {
                    continue;
                }
                attempts++;
                StreamAttempt a;
                try {
                    a = s.startStream(request, request.requestId() + "#" + attempts, Instant.now().plusNanos(remaining), pc);
                } catch (RuntimeException e) {
                    s.admission().release(pc);
                    if (!(e instanceof AttemptFailedException)) {
                        throw e;
                    }
                    failedBefore = true;
                    skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, e.getMessage());
                    continue;
                }
                current.accept(a);
                boolean degraded = i > 0;
                int n = attempts;
                if (a.awaitFirst(timeout + GRACE_NANOS, relay, () -> {
                    metrics.served(alias, entry, degraded);
                    origin.complete(new RoutedOrigin(entry, degraded, n));
                })) {
                    relay.completion().thenAccept(c -> cache.put(alias, request, c));
                    return;
                }
                failedBefore = true;
                skips.add(RouterRejectedException.Reason.MODEL_UNAVAILABLE, 0, a.failureMessage());
            }
            if (relay.cancelled()) {
                throw new CancellationException("stream cancelled");
            }
            RouterRejectedException rejected = skips.reject(alias);
            metrics.rejected(alias, rejected.reason());
            throw rejected;
        } catch (InterruptedException e) {
            fail(relay, origin, new CancellationException("stream cancelled while routing"));
        } catch (RuntimeException e) {
            fail(relay, origin, e);
        }
    }

    private static void fail(StreamRelay relay, CompletableFuture<RoutedOrigin> origin, Throwable t) {
        origin.completeExceptionally(t);
        relay.fail(t);
    }

    private RoutedCompletion served(String alias, Completion c, String by, boolean degraded, int attempts) {
        metrics.served(alias, by, degraded);
        return new RoutedCompletion(c, by, degraded, attempts);
    }
}
