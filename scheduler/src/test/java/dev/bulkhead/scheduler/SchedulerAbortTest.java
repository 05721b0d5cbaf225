package dev.bulkhead.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.kvcache.KvCacheConfig;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Abort (and error) is valid in every state and always gives every KV block back. */
class SchedulerAbortTest {

    private static final int BS = 4;

    private static SchedulerRequest req(String id, int promptLen, int maxTokens, long arrival) {
        return new SchedulerRequest(id, IntStream.range(0, promptLen).map(i -> (id.hashCode() + i) & 31).toArray(),
                maxTokens, 0, arrival);
    }

    private static FakeEngine engine(int maxBatched, int numBlocks) {
        return new FakeEngine(new SchedulerConfig(maxBatched, 8, 128), new KvCacheConfig(numBlocks, BS));
    }

    @Test
    void abortWhileWaiting() {
        FakeEngine e = engine(64, 32);
        e.add(req("a", 5, 4, 0));
        assertThat(e.finish("a", FinishReason.ABORT)).isTrue();
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.FINISHED_ABORTED);
        assertThat(e.scheduler.hasWork()).isFalse();
        assertThat(e.scheduler.schedule()).isSameAs(SchedulerOutput.EMPTY);
    }

    @Test
    void abortDuringChunkedPrefill() {
        FakeEngine e = engine(4, 32);
        e.add(req("a", 13, 4, 0));
        e.step();
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.RUNNING);
        assertThat(e.kv.stats().numInUse()).isEqualTo(1);
        assertThat(e.finish("a", FinishReason.ABORT)).isTrue();
        e.scheduler.checkInvariants();
        assertThat(e.kv.stats().numInUse()).isZero();
    }

    @Test
    void errorWhileDecoding() {
        FakeEngine e = engine(64, 32);
        e.add(req("a", 5, 10, 0));
        e.step();
        e.step();
        assertThat(e.scheduler.outputTokens("a")).hasSize(2);
        assertThat(e.finish("a", FinishReason.ERROR)).isTrue();
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.FINISHED_ERROR);
        assertThat(e.scheduler.outputTokens("a")).hasSize(2);
        assertThat(e.kv.stats().numInUse()).isZero();
    }

    @Test
    void abortWhilePreempted() {
        FakeEngine e = engine(64, 5);
        e.add(req("a", 4, 8, 0));
        e.add(req("b", 4, 8, 1));
        while (e.step().preempted().isEmpty()) {
            assertThat(e.scheduler.hasWork()).isTrue();
        }
        assertThat(e.scheduler.status("b")).isEqualTo(RequestStatus.PREEMPTED);
        assertThat(e.finish("b", FinishReason.ABORT)).isTrue();
        e.scheduler.checkInvariants();
        e.runToCompletion(20);
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.FINISHED_LENGTH);
    }

    @Test
    void abortBetweenScheduleAndUpdateDropsOnlyThatRequest() {
        FakeEngine e = engine(64, 32);
        e.add(req("a", 6, 3, 0));
        e.add(req("b", 6, 3, 1));
        e.inFlight = out -> {
            assertThat(out.chunks()).hasSize(2);
            assertThat(e.finish("a", FinishReason.ABORT)).isTrue();
        };
        e.step();
        e.inFlight = out -> { };
        assertThat(e.scheduler.outputTokens("a")).isEmpty();
        assertThat(e.scheduler.outputTokens("b")).hasSize(1);
        e.runToCompletion(10);
        assertThat(e.finishedOutputs.get("b")).hasSize(3);
    }

    @Test
    void finishingTwiceOrAnUnknownIdIsANoOp() {
        FakeEngine e = engine(64, 32);
        e.add(req("a", 3, 1, 0));
        e.runToCompletion(5);
        assertThat(e.scheduler.finish("a", FinishReason.ABORT)).isFalse();
        assertThat(e.scheduler.status("a")).isEqualTo(RequestStatus.FINISHED_LENGTH);
        assertThat(e.scheduler.finish("nobody", FinishReason.ABORT)).isFalse();
        assertThat(e.scheduler.stats().numFinished()).isEqualTo(1);
    }
}
