package dev.bulkhead.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.kvcache.KvCacheConfig;
import dev.bulkhead.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Plays the engine around a {@link Scheduler} without tensors. Its "KV cache" is one long per slot: the hash of
 * the salt and every token up to that position, which is what a real model's K and V depend on. Each step it
 * checks the chunks against its own copy of every request's tokens, reads the whole prefix back through the
 * block table (so any wrong block, shared or reused, shows up), writes the chunk's slots, and "samples" a token
 * that is a function of the KV it read, so a request's output equals the output it gets when run alone only if
 * every step saw the right KV.
 *
 * <p>With {@link #pipelined} it plays an engine with asynchronous scheduling: each step schedules the next one
 * ahead, then executes and updates the step before it, as a device runs queued steps in order and later than the
 * host scheduled them. A placeholder token is read only when its step executes (after the step that sampled it was
 * updated); a chunk of a request finished in between still executes and writes poison into its slots, as a
 * device would write KV nobody reads, so a block handed on too early shows up as wrong KV.
 */
final class FakeEngine {

    static final int VOCAB = 50;

    final Scheduler scheduler;
    final KvCacheManager kv;
    final SchedulerConfig config;
    private final long[] slots;
    private final Map<String, Seq> seqs = new HashMap<>();
    final List<SchedulerOutput> outputs = new ArrayList<>();
    final Map<String, int[]> finishedOutputs = new HashMap<>();
    /** When set, a sampled token equal to it finishes the request with STOP, as an EOS would. */
    int stopToken = -1;
    /** Runs after the forward pass and before update(), like a client abort racing the step. */
    Consumer<SchedulerOutput> inFlight = out -> { };
    /** Schedules each step ahead of the previous one's execution (see the class comment). */
    boolean pipelined;
    private SchedulerOutput ahead;  // pipelined: scheduled, not yet executed
    private long poison = 1;

    private static final class Seq {
        final long salt;
        int[] tokens;
        int n;

        Seq(SchedulerRequest r) {
            salt = r.cacheSalt();
            tokens = r.promptTokenIds();
            n = tokens.length;
        }

        void append(int t) {
            if (n == tokens.length) {
                tokens = Arrays.copyOf(tokens, n * 2);
            }
            tokens[n++] = t;
        }
    }

    FakeEngine(SchedulerConfig config, KvCacheConfig kvConfig) {
        this.config = config;
        this.kv = new KvCacheManager(kvConfig);
        this.scheduler = new Scheduler(config, kv);
        this.slots = new long[kvConfig.numBlocks() * kvConfig.blockSize()];
    }

    void add(SchedulerRequest r) {
        scheduler.add(r);
        seqs.put(r.requestId(), new Seq(r));
    }

    boolean finish(String id, FinishReason reason) {
        int[] out = seqs.containsKey(id) ? scheduler.outputTokens(id) : null;
        boolean done = scheduler.finish(id, reason);
        if (done) {
            finishedOutputs.put(id, out);
            seqs.remove(id);
        }
        return done;
    }

    /** One schedule → execute → update round with every check; returns the scheduler's output. */
    SchedulerOutput step() {
        if (pipelined) {
            return pipelinedStep();
        }
        SchedulerOutput out = scheduler.schedule();
        outputs.add(out);
        checkShape(out);
        executeAndUpdate(out);
        scheduler.checkInvariants();
        return out;
    }

    /** Schedules the next step ahead, then executes and updates the one scheduled before it. */
    private SchedulerOutput pipelinedStep() {
        SchedulerOutput out = scheduler.scheduleAhead();
        outputs.add(out);
        checkShape(out);
        SchedulerOutput previous = ahead;
        ahead = out == SchedulerOutput.EMPTY ? null : out;
        if (previous != null) {
            executeAndUpdate(previous);
        }
        scheduler.checkInvariants();
        return out;
    }

    /** Whether a pipelined step is scheduled and not yet executed. */
    boolean hasAhead() {
        return ahead != null;
    }

    private void executeAndUpdate(SchedulerOutput out) {
        Map<String, Integer> sampled = new HashMap<>();
        for (ScheduledChunk c : out.chunks()) {
            Integer t = execute(c);
            if (t != null) {
                sampled.put(c.requestId(), t);
            }
        }
        inFlight.accept(out);
        List<String> lengthDone = scheduler.update(out, sampled);
        for (ScheduledChunk c : out.chunks()) {
            Integer t = sampled.get(c.requestId());
            Seq s = seqs.get(c.requestId());
            if (t == null || s == null) {
                continue;
            }
            s.append(t);
            if (lengthDone.contains(c.requestId())) {
                assertThat(scheduler.status(c.requestId())).isEqualTo(RequestStatus.FINISHED_LENGTH);
                finishedOutputs.put(c.requestId(), scheduler.outputTokens(c.requestId()));
                seqs.remove(c.requestId());
            } else if (t == stopToken) {
                assertThat(finish(c.requestId(), FinishReason.STOP)).isTrue();
            }
        }
    }

    /** Steps until idle; fails if a step with work left schedules nothing (a deadlock) or it takes too long. */
    void runToCompletion(int maxSteps) {
        int steps = 0;
        while (scheduler.hasWork() || ahead != null) {
            boolean executes = ahead != null;
            SchedulerOutput out = step();
            assertThat(!out.chunks().isEmpty() || executes)
                    .as("a step with work left must schedule or execute something").isTrue();
            assertThat(++steps).as("steps").isLessThanOrEqualTo(maxSteps);
        }
        assertThat(kv.stats().numInUse()).isZero();
    }

    private void checkShape(SchedulerOutput out) {
        assertThat(out.numBatchedTokens()).isLessThanOrEqualTo(config.maxBatchedTokens());
        assertThat(out.chunks().size()).isLessThanOrEqualTo(config.maxRunning());
        Set<String> ids = new HashSet<>();
        for (ScheduledChunk c : out.chunks()) {
            assertThat(ids.add(c.requestId())).as("one chunk per request").isTrue();
            assertThat(out.preempted()).doesNotContain(c.requestId());
            assertThat(scheduler.status(c.requestId())).isEqualTo(RequestStatus.RUNNING);
        }
        for (String id : out.preempted()) {
            assertThat(scheduler.status(id)).isEqualTo(RequestStatus.PREEMPTED);
        }
    }

    /** Checks and "computes" one chunk; returns the sampled token when the chunk samples. */
    private Integer execute(ScheduledChunk c) {
        Seq s = seqs.get(c.requestId());
        int bs = kv.blockSize();
        int end = c.endPosition();
        int[] table = c.blockTable();
        if (s == null) {
            // NOTE: finished since it was scheduled (pipelined only): the device still writes its KV slots.
            assertThat(pipelined).as("a chunk of finished request %s executed", c.requestId()).isTrue();
            for (int p = c.startPosition(); p < end; p++) {
                slots[table[p / bs] * bs + p % bs] = mix(poison++);
            }
            return null;
        }
        assertThat(end).isLessThanOrEqualTo(s.n);
        int[] expected = Arrays.copyOfRange(s.tokens, c.startPosition(), end);
        assertThat(c.placeholders()).as("placeholders come only from scheduling ahead")
                .isLessThanOrEqualTo(pipelined ? 1 : 0);
        Arrays.fill(expected, expected.length - c.placeholders(), expected.length, -1);
        assertThat(c.tokenIds()).as("tokens of %s", c.requestId()).containsExactly(expected);
        assertThat(c.sample()).isEqualTo(end == s.n);
        assertThat((long) table.length * bs).isGreaterThanOrEqualTo(end);
        long h = s.salt;
        long read = 0;
        for (int p = 0; p < end; p++) {
            h = mix(h * 31 + s.tokens[p]);
            int slot = table[p / bs] * bs + p % bs;
            if (p < c.startPosition()) {
                assertThat(slots[slot]).as("KV of %s at position %d", c.requestId(), p).isEqualTo(h);
            } else {
                slots[slot] = h;
            }
            read = mix(read ^ slots[slot]);
        }
        return c.sample() ? (int) Long.remainderUnsigned(read, VOCAB) : null;
    }

    static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xFF51AFD7ED558CCDL;
        return x ^ (x >>> 29);
    }

    /** Output of {@code r} when it runs alone in a roomy scheduler. */
    static int[] soloOutput(SchedulerRequest r, int blockSize, int stopToken) {
        int len = r.promptLength() + r.maxTokens();
        FakeEngine solo = new FakeEngine(new SchedulerConfig(len, 1, len),
                new KvCacheConfig(len / blockSize + 2, blockSize));
        solo.stopToken = stopToken;
        solo.add(r);
        solo.runToCompletion(10 * len);
        return solo.finishedOutputs.get(r.requestId());
    }
}
