package dev.bulkhead.scheduler;

import dev.bulkhead.kvcache.KvCacheManager;
import dev.bulkhead.kvcache.PrefixHit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Continuous batching over a paged KV cache (the vLLM v1 contract: no prefill or decode phases; each request's
 * computed-token count catches up with its token count within each step's token budget).
 *
 * <p>Each {@link #schedule()} fills a budget of {@code maxBatchedTokens}: running requests first (decodes, then
 * unfinished prefills), then waiting requests in priority then arrival order, chunking a prompt that does not
 * fit. When KV blocks run out the lowest-priority, latest-arriving running request is preempted by recompute:
 * its blocks are freed and it waits again with its output so far. Waiting requests are not admitted in a step
 * that preempted. A request that could never fit alone is refused by {@link #add}, so while there is work every
 * step schedules something.
 *
 * <p>The engine calls {@link #update} after each forward pass, then {@link #finish} for stop conditions. Not
 * thread-safe: one engine thread owns it.
 */
public final class Scheduler {

    private static final Comparator<Request> ORDER = Comparator.comparingInt(Request::priority)
            .thenComparingLong(Request::arrivalNanos).thenComparingLong(Request::admission);

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final Map<String, Request> live = new HashMap<>();
    private final TreeSet<Request> waiting = new TreeSet<>(ORDER);
    /** Sorted by {@link #ORDER}: the last one is the next preemption victim. */
    private final List<Request> running = new ArrayList<>();
    private final Map<String, Request> finished;
    private final List<Request> scheduled = new ArrayList<>();
    private int budget;
    private SchedulerOutput pending;
    private long admissions;
    private long steps;
    private long preemptions;
    private long finishedCount;

    /** A scheduler allocating from {@code kv}, which it then owns (nothing else may allocate from it). */
    public Scheduler(SchedulerConfig config, KvCacheManager kv) {
        this.config = Objects.requireNonNull(config, "config");
        this.kv = Objects.requireNonNull(kv, "kv");
        int retention = config.finishedRetention();
        this.finished = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Request> eldest) {
                return size() > retention;
            }
        };
    }

    /**
     * Queues a request.
     *
     * @throws AdmissionException for a duplicate live id, an empty prompt, or a request that could never fit
     *                            (longer than {@code maxModelLen}, or more KV than the whole pool)
     */
    public void add(SchedulerRequest request) {
        String id = request.requestId();
        if (live.containsKey(id)) {
            throw new AdmissionException(id, AdmissionException.Reason.DUPLICATE_ID,
                    "a request with this id is " + live.get(id).status);
        }
        int prompt = request.promptLength();
        if (prompt == 0) {
            throw new AdmissionException(id, AdmissionException.Reason.EMPTY_PROMPT, "the prompt has no tokens");
        }
        long total = (long) prompt + request.maxTokens();
        if (total > config.maxModelLen()) {
            throw new AdmissionException(id, AdmissionException.Reason.EXCEEDS_MAX_MODEL_LEN, "prompt of " + prompt
                    + " tokens + max_tokens " + request.maxTokens() + " = " + total
                    + " exceeds the model's max length of " + config.maxModelLen());
        }
        // NOTE: the last output token is never fed back, so KV holds at most total - 1 tokens.
        int blocks = kv.blocksFor(total - 1);
        if (blocks > kv.capacity()) {
            throw new AdmissionException(id, AdmissionException.Reason.EXCEEDS_KV_CACHE, "prompt of " + prompt
                    + " tokens + max_tokens " + request.maxTokens() + " needs " + blocks + " KV blocks of "
                    + kv.blockSize() + " tokens but the pool holds only " + kv.capacity() + " blocks ("
                    + (long) kv.capacity() * kv.blockSize() + " tokens)");
        }
        finished.remove(id);
        Request r = new Request(request, admissions++);
        live.put(id, r);
        waiting.add(r);
    }

    /**
     * Picks this step's chunks. Returns {@link SchedulerOutput#EMPTY} when nothing can run; otherwise the output
     * must go to {@link #update} before the next call.
     *
     * @throws IllegalStateException when the previous output has not been passed to {@link #update}
     */
    public SchedulerOutput schedule() {
        if (pending != null) {
            throw new IllegalStateException("step " + pending.step() + " has not been passed to update()");
        }
        budget = config.maxBatchedTokens();
        scheduled.clear();
        List<String> preempted = new ArrayList<>();
        scheduleRunning(true, preempted);
        scheduleRunning(false, preempted);
        if (preempted.isEmpty()) {
            scheduleWaiting();
        }
        if (scheduled.isEmpty() && preempted.isEmpty()) {
            return SchedulerOutput.EMPTY;
        }
        List<ScheduledChunk> chunks = new ArrayList<>(scheduled.size());
        int total = 0;
        for (Request r : scheduled) {
            int start = r.numComputed;
            int end = start + r.scheduledTokens;
            chunks.add(new ScheduledChunk(r.id, Arrays.copyOfRange(r.tokens, start, end), start, kv.blockTable(r.id),
                    end == r.numTokens));
            total += r.scheduledTokens;
            r.scheduledTokens = 0;
        }
        scheduled.clear();
        pending = new SchedulerOutput(++steps, chunks, preempted, total);
        return pending;
    }

    /** Schedules running requests with one token to compute ({@code decodes}) or with more (prefill chunks). */
    private void scheduleRunning(boolean decodes, List<String> preempted) {
        // NOTE: victims are taken from the end of the list, never before index i, so the loop index stays valid.
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Request r = running.get(i);
            int remaining = r.numTokens - r.numComputed;
            if (r.scheduledTokens > 0 || (remaining == 1) != decodes) {
                continue;
            }
            int n = Math.min(remaining, budget);
            if (reserve(r, n, preempted)) {
                take(r, n);
            }
        }
    }

    /** Grows {@code r}'s KV to hold {@code n} more tokens, preempting from the back; false if r was preempted. */
    private boolean reserve(Request r, int n, List<String> preempted) {
        while (!kv.appendSlots(r.id, r.numComputed + n)) {
            Request victim = running.getLast();
            preempt(victim);
            preempted.add(victim.id);
            if (victim == r) {
                return false;
            }
        }
        return true;
    }

    private void preempt(Request victim) {
        running.removeLast();
        if (victim.scheduledTokens > 0) {
            budget += victim.scheduledTokens;
            victim.scheduledTokens = 0;
            scheduled.remove(victim);
        }
        kv.free(victim.id);
        victim.numComputed = 0;
        victim.status = RequestStatus.PREEMPTED;
        waiting.add(victim);
        preemptions++;
    }

    private void scheduleWaiting() {
        Iterator<Request> it = waiting.iterator();
        while (it.hasNext() && budget > 0 && running.size() < config.maxRunning()) {
            Request r = it.next();
            PrefixHit hit = kv.findCachedPrefix(r.tokens, r.numTokens, r.spec.cacheSalt());
            int n = Math.min(r.numTokens - hit.numTokens(), budget);
            if (!kv.allocate(r.id, hit, hit.numTokens() + n)) {
                // NOTE: no skipping ahead: a later, smaller request must not starve the head of the queue.
                return;
            }
            it.remove();
            r.numComputed = hit.numTokens();
            r.status = RequestStatus.RUNNING;
            int at = Collections.binarySearch(running, r, ORDER);
            running.add(-at - 1, r);
            take(r, n);
        }
    }

    private void take(Request r, int n) {
        r.scheduledTokens = n;
        scheduled.add(r);
        budget -= n;
    }

    /**
     * Records that {@code output} was executed: advances each scheduled request's computed tokens, offers newly
     * full blocks to the prefix cache and appends the sampled token of each chunk with {@code sample} set.
     * Requests finished or aborted since {@link #schedule()} are skipped.
     *
     * @param sampledTokens request id → token sampled from its chunk's last position
     * @return ids of requests that reached {@code maxTokens} and finished with {@link FinishReason#LENGTH}
     * @throws IllegalArgumentException when {@code output} is not the pending step or a sampled token is missing
     */
    public List<String> update(SchedulerOutput output, Map<String, Integer> sampledTokens) {
        if (output == SchedulerOutput.EMPTY) {
            return List.of();
        }
        if (output != pending) {
            throw new IllegalArgumentException("output of step " + output.step() + " is not the pending step "
                    + (pending == null ? "(none)" : pending.step()));
        }
        for (ScheduledChunk c : output.chunks()) {
            if (c.sample() && isActive(c)) {
                Integer t = sampledTokens.get(c.requestId());
                if (t == null || t < 0) {
                    throw new IllegalArgumentException("request " + c.requestId() + " needs a sampled token id >= 0,"
                            + " got " + t);
                }
            }
        }
        pending = null;
        List<String> lengthFinished = new ArrayList<>();
        for (ScheduledChunk c : output.chunks()) {
            if (!isActive(c)) {
                continue;
            }
            Request r = live.get(c.requestId());
            r.numComputed = c.endPosition();
            kv.cacheFullBlocks(r.id, r.tokens, r.numComputed);
            if (c.sample()) {
                r.tokens[r.numTokens++] = sampledTokens.get(r.id);
                if (r.numOutputTokens() >= r.spec.maxTokens()) {
                    finish(r.id, FinishReason.LENGTH);
                    lengthFinished.add(r.id);
                }
            }
        }
        return lengthFinished;
    }

    private boolean isActive(ScheduledChunk c) {
        Request r = live.get(c.requestId());
        return r != null && r.status == RequestStatus.RUNNING && r.numComputed == c.startPosition();
    }

    /**
     * Finishes a request in any state and frees its KV blocks. Returns {@code false} for an unknown or already
     * finished id.
     */
    public boolean finish(String requestId, FinishReason reason) {
        Objects.requireNonNull(reason, "reason");
        Request r = live.remove(requestId);
        if (r == null) {
            return false;
        }
        if (r.status == RequestStatus.RUNNING) {
            running.remove(r);
        } else {
            waiting.remove(r);
        }
        kv.free(r.id);
        r.status = RequestStatus.finishedBy(reason);
        finished.put(r.id, r);
        finishedCount++;
        return true;
    }

    /** Requests waiting, new or preempted. */
    public int numWaiting() {
        return waiting.size();
    }

    /** Requests holding KV blocks. */
    public int numRunning() {
        return running.size();
    }

    /** Whether any request is waiting or running. */
    public boolean hasWork() {
        return !live.isEmpty();
    }

    /**
     * The status of a live or recently finished request.
     *
     * @throws IllegalArgumentException for an id never added or no longer retained
     */
    public RequestStatus status(String requestId) {
        return lookup(requestId).status;
    }

    /** A copy of the output tokens so far of a live or recently finished request. */
    public int[] outputTokens(String requestId) {
        return lookup(requestId).outputTokens();
    }

    private Request lookup(String requestId) {
        Request r = live.get(requestId);
        if (r == null) {
            r = finished.get(requestId);
        }
        if (r == null) {
            throw new IllegalArgumentException("unknown request " + requestId + " (never added, or finished more than "
                    + config.finishedRetention() + " requests ago)");
        }
        return r;
    }

    /** A snapshot of scheduler and KV counters. */
    public SchedulerStats stats() {
        return new SchedulerStats(steps, waiting.size(), running.size(), preemptions, finishedCount, kv.stats());
    }

    /**
     * Checks the request table against the KV cache (and the KV cache itself): every running request holds
     * blocks for its computed tokens, no waiting request holds any, queues are disjoint and ordered, the
     * sequence cap holds. Throws {@link IllegalStateException} naming the first broken rule. For tests; O(pool).
     */
    public void checkInvariants() {
        kv.checkInvariants();
        if (running.size() > config.maxRunning()) {
            fail(running.size() + " requests running, over maxRunning " + config.maxRunning());
        }
        if (live.size() != running.size() + waiting.size()) {
            fail(live.size() + " live requests but " + running.size() + " running + " + waiting.size() + " waiting");
        }
        for (int i = 0; i < running.size(); i++) {
            Request r = running.get(i);
            if (r.status != RequestStatus.RUNNING || live.get(r.id) != r || !kv.holds(r.id)) {
                fail("running request " + r.id + " is " + r.status + " or holds no KV");
            }
            if ((long) kv.blockTable(r.id).length * kv.blockSize() < r.numComputed || r.numComputed >= r.numTokens) {
                fail("running request " + r.id + " has " + r.numComputed + " of " + r.numTokens
                        + " tokens computed in " + kv.blockTable(r.id).length + " blocks");
            }
            if (i > 0 && ORDER.compare(running.get(i - 1), r) > 0) {
                fail("running requests out of priority order at " + r.id);
            }
        }
        for (Request r : waiting) {
            boolean waitingStatus = r.status == RequestStatus.WAITING || r.status == RequestStatus.PREEMPTED;
            if (!waitingStatus || live.get(r.id) != r || kv.holds(r.id) || r.numComputed != 0) {
                fail("waiting request " + r.id + " is " + r.status + " or holds KV");
            }
        }
    }

    private static void fail(String message) {
        throw new IllegalStateException("scheduler invariant broken: " + message);
    }

    /** The KV manager this scheduler allocates from (for invariant checks and metrics). */
    public KvCacheManager kvCache() {
        return kv;
    }
}
