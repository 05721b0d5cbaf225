package dev.bulkhead.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.kvcache.KvCacheConfig;
import dev.bulkhead.kvcache.KvCacheManager;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous scheduling, step by step: {@link Scheduler#scheduleAhead()} while the previous step is pending gives
 * each request that samples in it a placeholder token; outputs are updated in order; a request finished, preempted
 * or whose id was reused while its step was in flight is handled as the class comment of {@link Scheduler} says.
 */
class SchedulerAheadTest {

    private static final int BS = 4;

    private static Scheduler scheduler(int maxBatched, int numBlocks) {
        return new Scheduler(new SchedulerConfig(maxBatched, 8, 64), new KvCacheManager(new KvCacheConfig(numBlocks, BS)));
    }

    private static SchedulerRequest req(String id, int[] prompt, int maxTokens, int priority, long arrival) {
        return new SchedulerRequest(id, prompt, maxTokens, priority, arrival);
    }

    private static ScheduledChunk chunk(SchedulerOutput out, String id) {
        return out.chunks().stream().filter(c -> c.requestId().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void aDecodeScheduledAheadIsAPlaceholderForTheTokenThePendingStepSamples() {
        Scheduler s = scheduler(16, 16);
        s.add(req("a", new int[] {5, 6, 7}, 4, 0, 0));
        SchedulerOutput prefill = s.scheduleAhead();
        assertThat(chunk(prefill, "a").placeholders()).isZero();
        SchedulerOutput ahead = s.scheduleAhead();
        ScheduledChunk c = chunk(ahead, "a");
        assertThat(c.startPosition()).as("the position of the token the prefill samples").isEqualTo(3);
        assertThat(c.tokenIds()).containsExactly(-1);
        assertThat(c.placeholders()).isEqualTo(1);
        assertThat(c.sample()).isTrue();
        assertThat(s.numPending()).isEqualTo(2);
        s.checkInvariants();
        assertThatThrownBy(s::scheduleAhead).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("step 1 has not been passed to update()");
        assertThatThrownBy(() -> s.update(ahead, Map.of("a", 9))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not the pending step 1");
        s.update(prefill, Map.of("a", 9));
        s.update(ahead, Map.of("a", 10));
        assertThat(s.outputTokens("a")).containsExactly(9, 10);
        SchedulerOutput next = s.schedule();
        assertThat(chunk(next, "a").tokenIds()).as("known tokens again once nothing is pending").containsExactly(10);
    }

    @Test
    void aRequestWhoseLastTokenIsInFlightIsNotScheduledAgain() {
        Scheduler s = scheduler(16, 16);
        s.add(req("a", new int[] {5, 6}, 2, 0, 0));
        SchedulerOutput prefill = s.scheduleAhead();
        SchedulerOutput second = s.scheduleAhead();
        s.update(prefill, Map.of("a", 1));
        assertThat(s.scheduleAhead()).as("max_tokens 2: the second token is being sampled").isSameAs(SchedulerOutput.EMPTY);
        assertThat(s.update(second, Map.of("a", 2))).containsExactly("a");
        assertThat(s.status("a")).isEqualTo(RequestStatus.FINISHED_LENGTH);
        assertThat(s.kvCache().stats().numInUse()).isZero();
    }

    @Test
    void aRequestFinishedWhileItsNextStepIsInFlightIsSkippedWithoutAToken() {
        Scheduler s = scheduler(16, 16);
        s.add(req("a", new int[] {5, 6, 7}, 8, 0, 0));
        s.add(req("b", new int[] {8, 9}, 8, 0, 1));
        SchedulerOutput prefill = s.scheduleAhead();
        SchedulerOutput ahead = s.scheduleAhead();
        s.update(prefill, Map.of("a", 2, "b", 3));
        // "a" sampled an EOS: the engine finishes it; the step in flight computed its next token for nothing.
        assertThat(s.finish("a", FinishReason.STOP)).isTrue();
        assertThat(s.update(ahead, Map.of("b", 4))).isEmpty();
        assertThat(s.outputTokens("a")).containsExactly(2);
        assertThat(s.outputTokens("b")).containsExactly(3, 4);
        s.checkInvariants();
    }

    @Test
    void anIdReusedWhileTheOldRequestsStepIsInFlightIsNotConfused() {
        Scheduler s = scheduler(16, 16);
        s.add(req("a", new int[] {5, 6, 7}, 8, 0, 0));
        SchedulerOutput prefill = s.scheduleAhead();
        SchedulerOutput ahead = s.scheduleAhead();
        s.update(prefill, Map.of("a", 2));
        s.finish("a", FinishReason.ABORT);
        s.add(req("a", new int[] {11, 12}, 8, 0, 5));
        assertThat(s.update(ahead, Map.of("a", 99))).isEmpty();
        assertThat(s.outputTokens("a")).as("the new request got nothing from the old one's step").isEmpty();
        SchedulerOutput fresh = s.schedule();
        assertThat(chunk(fresh, "a").tokenIds()).containsExactly(11, 12);
        assertThat(chunk(fresh, "a").startPosition()).isZero();
        s.checkInvariants();
    }

    @Test
    void aRequestPreemptedWhileItsStepIsInFlightKeepsTheTokenAndRecomputesAfter() {
        // 4 blocks of 4 tokens: "hi" (priority 0) and "lo" (priority 1) hold 2 each; hi's growth evicts lo.
        Scheduler s = scheduler(16, 5);
        s.add(req("hi", new int[] {1, 2, 3, 4, 5, 6, 7}, 8, 0, 0));
        s.add(req("lo", new int[] {8, 9, 10, 11, 12}, 8, 1, 1));
        SchedulerOutput prefill = s.scheduleAhead();
        SchedulerOutput ahead = s.scheduleAhead();   // hi decodes position 7 (block 1); lo position 5 (block 1)
        s.update(prefill, Map.of("hi", 20, "lo", 21));
        SchedulerOutput third = s.scheduleAhead();   // hi needs a third block at position 8: lo is preempted
        assertThat(third.preempted()).containsExactly("lo");
        assertThat(s.status("lo")).isEqualTo(RequestStatus.PREEMPTED);
        assertThat(third.chunks()).extracting(ScheduledChunk::requestId).containsExactly("hi");
        s.checkInvariants();
        s.update(ahead, Map.of("hi", 22, "lo", 23));
        assertThat(s.outputTokens("lo")).as("sampled before the preemption, from the right KV").containsExactly(21, 23);
        s.update(third, Map.of("hi", 24));
        s.finish("hi", FinishReason.ABORT);
        SchedulerOutput recompute = s.schedule();
        ScheduledChunk lo = chunk(recompute, "lo");
        int[] all = {8, 9, 10, 11, 12, 21, 23};
        assertThat(lo.endPosition()).isEqualTo(all.length);
        assertThat(lo.tokenIds()).containsExactly(java.util.Arrays.copyOfRange(all, lo.startPosition(), all.length));
        assertThat(lo.placeholders()).isZero();
        s.checkInvariants();
    }
}
