package dev.bulkhead.scheduler;

import dev.bulkhead.kvcache.KvCacheManager;
import dev.bulkhead.kvcache.PrefixHit;
import java.util.ArrayDeque;
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
 *
 * <p>Asynchronous scheduling (vLLM v1's): {@link #scheduleAhead()} picks the next step while the previous one is
 * still executing. A request that samples in that step gets an <em>output placeholder</em>: the next step may
 * already compute the position of the token it samples, whose value the runner takes from the executing step's
 * output on the device ({@link ScheduledChunk#placeholders()}). Computed-token counts advance when a step is
 * scheduled, so a step scheduled ahead starts where the one in flight ends; outputs go to {@link #update} in the
 * order they were scheduled. A request finished or preempted while a step holding it is in flight simply has that
 * step's chunk ignored, except that a token it sampled before a preemption is kept (the KV it was computed from
 * was right).
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
    /** Scheduled outputs not yet passed to {@link #update}, oldest first, with their requests as scheduled. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private int budget;
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

    /** A scheduled output and, per chunk, its request object and incarnation when it was scheduled. */
    private record Pending(SchedulerOutput output, Request[] requests, int[] incarnations) {
    }

    /**
     * Picks this step's chunks. Returns {@link SchedulerOutput#EMPTY} when nothing can run; otherwise the output
     * must go to {@link #update} before the next call.
     *
     * @throws IllegalStateException when the previous output has not been passed to {@link #update}
     */
    public SchedulerOutput schedule() {
        return schedule(0);
    }

    /**
     * As {@link #schedule()}, while the previous step may still be executing (at most one step pending): requests
     * that sample in it are scheduled for the token after the one it samples, as a placeholder. Outputs go to
     * {@link #update} in the order they were scheduled.
     *
     * @throws IllegalStateException when two steps are already pending
     */
    public SchedulerOutput scheduleAhead() {
        return schedule(1);
    }

    private SchedulerOutput schedule(int mayBePending) {
        if (pending.size() > mayBePending) {
            throw new IllegalStateException("step " + pending.peekFirst().output().step()
                    + " has not been passed to update()");
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
        Request[] requests = scheduled.toArray(Request[]::new);
        int[] incarnations = new int[requests.length];
        int total = 0;
        for (int i = 0; i < requests.length; i++) {
            Request r = requests[i];
            int start = r.numComputed;
            int end = start + r.scheduledTokens;
            int known = Math.max(start, Math.min(end, r.numTokens));
            int[] ids = new int[end - start];
            System.arraycopy(r.tokens, start, ids, 0, known - start);
            Arrays.fill(ids, known - start, ids.length, -1);
            boolean sample = end == r.numTokens + r.placeholders;
            chunks.add(new ScheduledChunk(r.id, ids, start, kv.blockTable(r.id), sample, end - known));
            total += r.scheduledTokens;
            r.scheduledTokens = 0;
            r.numComputed = end;
            if (sample) {
                r.placeholders++;
            }
            incarnations[i] = r.incarnation;
        }
        scheduled.clear();
        SchedulerOutput out = new SchedulerOutput(++steps, chunks, preempted, total);
        pending.addLast(new Pending(out, requests, incarnations));
        return out;
    }

    /** Schedules running requests with one token to compute ({@code decodes}) or with more (prefill chunks). */
    private void scheduleRunning(boolean decodes, List<String> preempted) {
        // NOTE: victims are taken from the end of the list, never before index i, so the loop index stays valid.
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Request r = running.get(i);
            int remaining = r.numTokens + r.placeholders - r.numComputed;
            // NOTE: a request whose last token is being sampled by the pending step has nothing left to compute.
            if (r.scheduledTokens > 0 || (remaining == 1) != decodes || r.lastTokenScheduled()) {
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
        victim.incarnation++;
        victim.status = RequestStatus.PREEMPTED;
        waiting.add(victim);
        preemptions++;
    }

    private void scheduleWaiting() {
        Iterator<Request> it = waiting.iterator();
        while (it.hasNext() && budget > 0 && running.size() < config.maxRunning()) {
            Request r = it.next();
            if (r.placeholders > 0) {
                // NOTE: preempted while a step that samples its next token was in flight: it recomputes once that
                // token is known (the next update), so its prompt for the recompute is complete.
                return;
            }
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
     * Records that {@code output} was executed: offers the blocks it filled to the prefix cache and appends the
     * sampled token of each chunk with {@code sample} set. Requests finished or aborted since it was scheduled are
     * skipped; one preempted since keeps its sampled token but none of the step's KV.
     *
     * @param sampledTokens request id → token sampled from its chunk's last position
     * @return ids of requests that reached {@code maxTokens} and finished with {@link FinishReason#LENGTH}
     * @throws IllegalArgumentException when {@code output} is not the oldest pending step or a sampled token is
     *                                  missing
     */
    public List<String> update(SchedulerOutput output, Map<String, Integer> sampledTokens) {
        if (output == SchedulerOutput.EMPTY) {
            return List.of();
        }
        Pending head = pending.peekFirst();
        if (head == null || output != head.output()) {
            throw new IllegalArgumentException("output of step " + output.step() + " is not the pending step "
                    + (head == null ? "(none)" : head.output().step()));
        }
        List<ScheduledChunk> chunks = output.chunks();
        for (int i = 0; i < chunks.size(); i++) {
            ScheduledChunk c = chunks.get(i);
            if (c.sample() && isLive(head.requests()[i])) {
                Integer t = sampledTokens.get(c.requestId());
                if (t == null || t < 0) {
                    throw new IllegalArgumentException("request " + c.requestId() + " needs a sampled token id >= 0,"
                            + " got " + t);
                }
            }
        }
        pending.removeFirst();
        List<String> lengthFinished = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            ScheduledChunk c = chunks.get(i);
            Request r = head.requests()[i];
            if (!isLive(r)) {
                continue;
            }
            if (r.incarnation == head.incarnations()[i]) {
                kv.cacheFullBlocks(r.id, r.tokens, c.endPosition());
            }
            if (c.sample()) {
                r.tokens[r.numTokens++] = sampledTokens.get(r.id);
                r.placeholders--;
                if (r.numOutputTokens() >= r.spec.maxTokens()) {
                    finish(r.id, FinishReason.LENGTH);
                    lengthFinished.add(r.id);
                }
            }
        }
        return lengthFinished;
    }

    /** Whether {@code r} is still the live request of its id (not finished, and its id not reused since). */
    private boolean isLive(Request r) {
        return live.get(r.id) == r;
    }

    /** Steps scheduled and not yet passed to {@link #update} (0 or 1; 2 while one scheduled ahead is pending). */
    public int numPending() {
        return pending.size();
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
            if ((long) kv.blockTable(r.id).length * kv.blockSize() < r.numComputed
                    || r.numComputed >= r.numTokens + r.placeholders) {
                fail("running request " + r.id + " has " + r.numComputed + " of " + r.numTokens + " tokens (and "
                        + r.placeholders + " placeholders) computed in " + kv.blockTable(r.id).length + " blocks");
            }
            if (i > 0 && ORDER.compare(running.get(i - 1), r) > 0) {
                fail("running requests out of priority order at " + r.id);
            }
        }
        for (Request r : live.values()) {
            if (r.placeholders < 0 || r.placeholders > pending.size()) {
                fail("request " + r.id + " has " + r.placeholders + " placeholders with " + pending.size()
                        + " steps pending");
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
