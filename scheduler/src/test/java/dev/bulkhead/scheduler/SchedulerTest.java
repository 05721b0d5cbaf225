package dev.bulkhead.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.kvcache.KvCacheConfig;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SchedulerTest {

    private static final int BS = 4;

    private static SchedulerRequest req(String id, int promptLen, int maxTokens) {
        return req(id, promptLen, maxTokens, 0, 0);
    }

    private static SchedulerRequest req(String id, int promptLen, int maxTokens, int priority, long arrival) {
        int seed = id.hashCode() & 0xFFFF;
        return new SchedulerRequest(id, IntStream.range(0, promptLen).map(i -> (seed + i * 7) % 40).toArray(),
                maxTokens, priority, arrival);
    }

    private static FakeEngine engine(int maxBatched, int maxRunning, int numBlocks) {
        return new FakeEngine(new SchedulerConfig(maxBatched, maxRunning, 256), new KvCacheConfig(numBlocks, BS));
    }

    private static List<String> ids(SchedulerOutput out) {
        return out.chunks().stream().map(ScheduledChunk::requestId).toList();
    }

    private static List<Integer> sizes(SchedulerOutput out) {
        return out.chunks().stream().map(ScheduledChunk::numTokens).toList();
    }

    @Test
    void idleSchedulerReturnsTheSharedEmptyOutput() {
        FakeEngine e = engine(16, 4, 16);
        assertThat(e.scheduler.schedule()).isSameAs(SchedulerOutput.EMPTY);
        assertThat(e.scheduler.update(SchedulerOutput.EMPTY, Map.of())).isEmpty();
        assertThat(e.scheduler.hasWork()).isFalse();
    }

    @Test
    void chunkedPrefillSplitsALongPromptAcrossSteps() {
        FakeEngine e = engine(4, 4, 32);
        e.add(req("a", 10, 3));
        SchedulerOutput s1 = e.step();
        assertThat(s1.chunks().getFirst().startPosition()).isZero();
        assertThat(s1.chunks().getFirst().sample()).isFalse();
        SchedulerOutput s2 = e.step();
        assertThat(s2.chunks().getFirst().startPosition()).isEqualTo(4);
        SchedulerOutput s3 = e.step();
        assertThat(sizes(s3)).containsExactly(2);
        assertThat(s3.chunks().getFirst().sample()).isTrue();
        assertThat(e.scheduler.outputTokens("a")).hasSize(1);
        SchedulerOutput s4 = e.step();
        assertThat(s4.chunks().getFirst().startPosition()).isEqualTo(10);
        assertThat(sizes(s4)).containsExactly(1);
        e.runToCompletion(10);
        assertThat(e.finishedOutputs.get("a")).hasSize(3);
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.FINISHED_LENGTH);
    }

    @Test
    void tokenBudgetAndSequenceCapHoldEveryStep() {
        FakeEngine e = engine(7, 3, 64);
        for (int i = 0; i < 8; i++) {
            e.add(req("r" + i, 3 + i, 4));
        }
        e.runToCompletion(200);
        assertThat(e.finishedOutputs).hasSize(8);
        assertThat(e.outputs).allSatisfy(out -> {
            assertThat(out.numBatchedTokens()).isLessThanOrEqualTo(7);
            assertThat(out.chunks()).hasSizeLessThanOrEqualTo(3);
        });
        assertThat(e.outputs).anySatisfy(out -> assertThat(out.numBatchedTokens()).isEqualTo(7));
    }

    @Test
    void decodesGoFirstThenPrefillChunks() {
        FakeEngine e = engine(4, 4, 64);
        e.add(req("a", 2, 10));
        e.add(req("b", 2, 10));
        e.step();  // both prompts in one step
        e.add(req("c", 12, 2, -5, 0));  // more important, but a prefill
        SchedulerOutput out = e.step();
        assertThat(ids(out)).containsExactly("a", "b", "c");
        assertThat(sizes(out)).containsExactly(1, 1, 2);
    }

    @Test
    void waitingRequestsGoInPriorityThenArrivalOrder() {
        FakeEngine e = engine(64, 1, 64);
        e.add(req("late-low", 3, 1, 5, 30));
        e.add(req("early-low", 3, 1, 5, 10));
        e.add(req("high", 3, 1, 0, 50));
        e.add(req("mid", 3, 1, 2, 40));
        List<String> order = IntStream.range(0, 4).mapToObj(i -> ids(e.step()).getFirst()).toList();
        assertThat(order).containsExactly("high", "mid", "early-low", "late-low");
        assertThat(e.scheduler.hasWork()).isFalse();
    }

    @Test
    void preemptsTheLeastImportantLatestRequestByRecompute() {
        // Capacity 4 blocks of 4 tokens; each request needs 3 blocks at the end.
        FakeEngine e = engine(64, 4, 5);
        e.add(req("first", 4, 8, 0, 1));
        e.add(req("second", 4, 8, 0, 2));
        e.step();
        assertThat(e.scheduler.numRunning()).isEqualTo(2);
        SchedulerOutput out;
        do {
            out = e.step();
        } while (out.preempted().isEmpty());
        assertThat(out.preempted()).containsExactly("second");
        assertThat(ids(out)).containsExactly("first");
        assertThat(e.scheduler.status("second")).isEqualTo(RequestStatus.PREEMPTED);
        int[] keptOutput = e.scheduler.outputTokens("second");
        assertThat(keptOutput).isNotEmpty();
        e.runToCompletion(100);
        assertThat(e.scheduler.stats().numPreemptions()).isPositive();
        for (String id : List.of("first", "second")) {
            assertThat(e.finishedOutputs.get(id)).as(id)
                    .containsExactly(FakeEngine.soloOutput(req(id, 4, 8, 0, id.equals("first") ? 1 : 2), BS, -1));
        }
        assertThat(e.finishedOutputs.get("second")).startsWith(keptOutput);
    }

    @Test
    void preemptedRequestRecomputesPromptAndOutputAndSamplesOnlyAtTheEnd() {
        FakeEngine e = engine(64, 4, 5);
        e.add(req("first", 4, 8, 0, 1));
        e.add(req("second", 4, 8, 0, 2));
        while (e.step().preempted().isEmpty()) {
            assertThat(e.scheduler.hasWork()).isTrue();
        }
        int known = 4 + e.scheduler.outputTokens("second").length;
        ScheduledChunk resumed = null;
        while (resumed == null) {
            resumed = e.step().chunks().stream().filter(c -> c.requestId().equals("second")).findFirst()
                    .orElse(null);
        }
        // NOTE: its first block may come from the prefix cache; the rest is recomputed up to its last token.
        assertThat(resumed.startPosition() % BS).isZero();
        assertThat(resumed.endPosition()).isEqualTo(known);
        assertThat(resumed.sample()).isTrue();
    }

    @Test
    void prefixCacheServesASharedPrompt() {
        FakeEngine e = engine(64, 4, 64);
        int[] prompt = IntStream.range(0, 18).toArray();
        e.add(new SchedulerRequest("a", prompt, 2, 0, 0));
        e.step();
        e.add(new SchedulerRequest("b", prompt, 2, 0, 1));
        SchedulerOutput out = e.step();
        ScheduledChunk b = out.chunks().stream().filter(c -> c.requestId().equals("b")).findFirst().orElseThrow();
        assertThat(b.startPosition()).isEqualTo(16);
        assertThat(b.numTokens()).isEqualTo(2);
        e.runToCompletion(20);
        assertThat(e.finishedOutputs.get("b")).containsExactly(e.finishedOutputs.get("a"));
        assertThat(e.scheduler.stats().kv().hitTokens()).isEqualTo(16);
        assertThat(e.scheduler.stats().prefixCacheHitRate()).isEqualTo(16.0 / 36);
    }

    @Test
    void fullyCachedPromptStillRecomputesItsLastToken() {
        FakeEngine e = engine(64, 4, 64);
        int[] prompt = IntStream.range(0, 8).toArray();
        e.add(new SchedulerRequest("a", prompt, 1, 0, 0));
        e.runToCompletion(5);
        e.add(new SchedulerRequest("b", prompt, 1, 0, 1));
        ScheduledChunk b = e.step().chunks().getFirst();
        assertThat(b.startPosition()).isEqualTo(4);
        assertThat(b.numTokens()).isEqualTo(4);
        assertThat(e.finishedOutputs.get("b")).containsExactly(e.finishedOutputs.get("a"));
    }

    @Test
    void adaptersWithDifferentSaltsDoNotShareKv() {
        FakeEngine e = engine(64, 4, 64);
        int[] prompt = IntStream.range(0, 9).toArray();
        e.add(new SchedulerRequest("a", prompt, 1, 0, 0, 1L));
        e.runToCompletion(5);
        e.add(new SchedulerRequest("b", prompt, 1, 0, 1, 2L));
        assertThat(e.step().chunks().getFirst().startPosition()).isZero();
    }

    @Test
    void admissionRejectsRequestsThatCanNeverRun() {
        FakeEngine e = new FakeEngine(new SchedulerConfig(64, 4, 100), new KvCacheConfig(9, BS));
        assertThatThrownBy(() -> e.add(req("long", 90, 20))).isInstanceOf(AdmissionException.class)
                .hasMessageContaining("request long rejected").hasMessageContaining("prompt of 90 tokens")
                .hasMessageContaining("max_tokens 20 = 110").hasMessageContaining("max length of 100")
                .extracting(ex -> ((AdmissionException) ex).reason())
                .isEqualTo(AdmissionException.Reason.EXCEEDS_MAX_MODEL_LEN);
        // 8 usable blocks hold 32 tokens; 30 + 4 - 1 = 33 tokens need 9 blocks.
        assertThatThrownBy(() -> e.add(req("big", 30, 4))).isInstanceOf(AdmissionException.class)
                .hasMessageContaining("needs 9 KV blocks of 4 tokens")
                .hasMessageContaining("pool holds only 8 blocks (32 tokens)");
        e.add(req("fits", 30, 3));
        assertThatThrownBy(() -> e.add(req("fits", 3, 3))).isInstanceOf(AdmissionException.class)
                .hasMessageContaining("a request with this id is WAITING");
        assertThatThrownBy(() -> e.add(new SchedulerRequest("empty", new int[0], 3, 0, 0)))
                .isInstanceOf(AdmissionException.class).hasMessageContaining("the prompt has no tokens");
        assertThat(e.scheduler.numWaiting()).isEqualTo(1);
        e.runToCompletion(10);
        assertThat(e.finishedOutputs.get("fits")).hasSize(3);
    }

    @Test
    void requestRecordsValidateTheirFields() {
        assertThatThrownBy(() -> new SchedulerRequest(" ", new int[] {1}, 1, 0, 0))
                .hasMessageContaining("requestId must be non-blank");
        assertThatThrownBy(() -> new SchedulerRequest("x", new int[] {1, -2}, 1, 0, 0))
                .hasMessageContaining("promptTokenIds[1] of x must be >= 0, got -2");
        assertThatThrownBy(() -> new SchedulerRequest("x", new int[] {1}, 0, 0, 0))
                .hasMessageContaining("maxTokens of x must be >= 1, got 0");
        assertThatThrownBy(() -> new SchedulerConfig(0, 1, 8)).hasMessageContaining("maxBatchedTokens must be >= 1");
        assertThatThrownBy(() -> new SchedulerConfig(8, 0, 8)).hasMessageContaining("maxRunning must be >= 1");
        int[] prompt = {1, 2};
        SchedulerRequest r = new SchedulerRequest("x", prompt, 1, 0, 0);
        prompt[0] = 9;
        assertThat(r.promptTokenIds()).containsExactly(1, 2);
    }

    @Test
    void updateEnforcesTheStepContract() {
        FakeEngine e = engine(64, 4, 16);
        e.add(req("a", 3, 2));
        SchedulerOutput out = e.scheduler.schedule();
        assertThatThrownBy(e.scheduler::schedule).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("step 1 has not been passed to update()");
        assertThatThrownBy(() -> e.scheduler.update(out, Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("request a needs a sampled token");
        assertThat(e.scheduler.update(out, Map.of("a", 7))).isEmpty();
        assertThatThrownBy(() -> e.scheduler.update(out, Map.of("a", 7))).hasMessageContaining("not the pending step");
        SchedulerOutput next = e.scheduler.schedule();
        assertThat(e.scheduler.update(next, Map.of("a", 8))).containsExactly("a");
        assertThat(e.scheduler.outputTokens("a")).containsExactly(7, 8);
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.FINISHED_LENGTH);
        assertThat(e.kv.stats().numInUse()).isZero();
    }

    @Test
    void finishedRequestsAreForgottenOldestFirst() {
        FakeEngine e = new FakeEngine(new SchedulerConfig(64, 1, 64, 2), new KvCacheConfig(32, BS));
        for (String id : List.of("a", "b", "c")) {
            e.add(req(id, 3, 1));
        }
        e.runToCompletion(5);
        assertThat(e.scheduler.status("c")).isEqualTo(RequestStatus.FINISHED_LENGTH);
        assertThat(e.scheduler.status("b")).isEqualTo(RequestStatus.FINISHED_LENGTH);
        assertThatThrownBy(() -> e.scheduler.status("a")).hasMessageContaining("unknown request a");
        assertThat(e.scheduler.stats().numFinished()).isEqualTo(3);
        e.add(req("a", 3, 1));  // a finished id may be reused
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.WAITING);
    }
}
