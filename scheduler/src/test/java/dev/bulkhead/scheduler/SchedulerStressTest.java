package dev.bulkhead.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.kvcache.KvCacheConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random workloads on a small pool: submits (with shared prefixes, priorities and two adapters), aborts,
 * STOP/ERROR finishes, aborts racing a step, and steps. Invariants are checked after every operation; every
 * request that finishes normally must produce exactly its solo output, and the pool must end empty. The same
 * workloads run with each step scheduled ahead of the previous one's execution (asynchronous scheduling).
 */
class SchedulerStressTest {

    private static final int BS = 4;
    private static final int STOP = 3;

    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13})
    void randomWorkloadKeepsInvariantsAndSoloOutputs(long seed) {
        run(seed, false);
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13, 14, 15})
    void randomWorkloadScheduledAheadKeepsInvariantsAndSoloOutputs(long seed) {
        run(seed, true);
    }

    private static void run(long seed, boolean pipelined) {
        SplittableRandom random = new SplittableRandom(seed);
        int maxBatched = 4 + random.nextInt(28);
        // NOTE: one 48-token request needs 12 blocks; the pool holds 12 to 15, so concurrency means preemption.
        FakeEngine e = new FakeEngine(new SchedulerConfig(maxBatched, 2 + random.nextInt(5), 48),
                new KvCacheConfig(13 + random.nextInt(4), BS));
        e.stopToken = STOP;
        e.pipelined = pipelined;
        Map<String, SchedulerRequest> requests = new HashMap<>();
        Set<String> interrupted = new HashSet<>();
        List<int[]> prefixes = List.of(new int[] {7, 8, 9, 10, 11, 12, 13, 14}, new int[] {20, 21, 22, 23, 24});
        int next = 0;
        for (int op = 0; op < 3000; op++) {
            int choice = random.nextInt(100);
            List<String> live = liveIds(e, requests);
            if (choice < 20) {
                SchedulerRequest r = randomRequest(random, "r" + next++, op, prefixes);
                e.add(r);
                requests.put(r.requestId(), r);
            } else if (choice < 24 && !live.isEmpty()) {
                String id = live.get(random.nextInt(live.size()));
                assertThat(e.finish(id, random.nextBoolean() ? FinishReason.ABORT : FinishReason.ERROR)).isTrue();
                interrupted.add(id);
            } else if (choice < 27) {
                e.inFlight = out -> {
                    if (!out.chunks().isEmpty()) {
                        String id = out.chunks().get(random.nextInt(out.chunks().size())).requestId();
                        if (e.finish(id, FinishReason.ABORT)) {
                            interrupted.add(id);
                        }
                    }
                };
                stepWithProgress(e);
                e.inFlight = out -> { };
            } else {
                stepWithProgress(e);
            }
            e.scheduler.checkInvariants();
        }
        e.runToCompletion(5000);
        e.scheduler.checkInvariants();
        assertThat(e.kv.stats().numInUse()).isZero();
        assertThat(e.scheduler.numWaiting() + e.scheduler.numRunning()).isZero();

        SchedulerStats stats = e.scheduler.stats();
        assertThat(stats.numFinished()).isEqualTo(requests.size());
        assertThat(stats.numPreemptions()).as("the pool is small enough to preempt").isPositive();
        assertThat(stats.kv().hitTokens()).as("shared prefixes hit the cache").isPositive();
        if (pipelined) {
            assertThat(e.outputs.stream().flatMap(o -> o.chunks().stream()).filter(c -> c.placeholders() > 0))
                    .as("decode tokens fed from the step before").isNotEmpty();
        }
        int checked = 0;
        for (SchedulerRequest r : requests.values()) {
            int[] solo = FakeEngine.soloOutput(r, BS, STOP);
            int[] got = e.finishedOutputs.get(r.requestId());
            if (interrupted.contains(r.requestId())) {
                assertThat(got.length).isLessThanOrEqualTo(solo.length);
                assertThat(Arrays.copyOf(solo, got.length)).as("partial output of %s", r.requestId())
                        .containsExactly(got);
            } else {
                assertThat(got).as("output of %s", r.requestId()).containsExactly(solo);
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(requests.size() / 2);
    }

    /** A step with work to do must schedule something: the scheduler never deadlocks. */
    private static void stepWithProgress(FakeEngine e) {
        boolean hadWork = e.scheduler.hasWork();
        boolean executes = e.hasAhead();
        SchedulerOutput out = e.step();
        if (hadWork) {
            assertThat(!out.chunks().isEmpty() || executes).as("progress while there is work").isTrue();
        } else if (!executes) {
            assertThat(out).isSameAs(SchedulerOutput.EMPTY);
        }
    }

    private static List<String> liveIds(FakeEngine e, Map<String, SchedulerRequest> requests) {
        List<String> live = new ArrayList<>();
        for (String id : requests.keySet()) {
            if (!e.scheduler.status(id).isFinished()) {
                live.add(id);
            }
        }
        live.sort(null);
        return live;
    }

    private static SchedulerRequest randomRequest(SplittableRandom random, String id, int arrival,
                                                  List<int[]> prefixes) {
        int[] prefix = random.nextInt(3) < 2 ? prefixes.get(random.nextInt(prefixes.size())) : new int[0];
        int tail = 1 + random.nextInt(12);
        int[] prompt = new int[prefix.length + tail];
        System.arraycopy(prefix, 0, prompt, 0, prefix.length);
        for (int i = prefix.length; i < prompt.length; i++) {
            prompt[i] = random.nextInt(FakeEngine.VOCAB);
        }
        int maxTokens = 1 + random.nextInt(Math.min(20, 48 - prompt.length));
        return new SchedulerRequest(id, prompt, maxTokens, random.nextInt(3), arrival, random.nextInt(4) == 0 ? 1 : 0);
    }
}
