package dev.bulkhead.bench.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RequestTimingTest {

    private static final long MS = 1_000_000;

    private static RequestTiming timing(String id, long submitMs, long... tokenMs) {
        long[] nanos = new long[tokenMs.length];
        for (int i = 0; i < nanos.length; i++) {
            nanos[i] = tokenMs[i] * MS;
        }
        return new RequestTiming(id, 10, tokenMs.length, submitMs * MS, submitMs * MS, nanos, "LENGTH", null);
    }

    @Test
    void ttftTpotItlAndE2eFollowVllmsDefinitions() {
        RequestTiming r = timing("a", 100, 150, 160, 180, 190);
        assertThat(r.ttftMillis()).isCloseTo(50, within(1e-9));
        assertThat(r.tpotMillis()).isCloseTo(40.0 / 3, within(1e-9)); // (190 - 150) / (4 - 1)
        assertThat(r.itlMillis()).containsExactly(10, 20, 10);
        assertThat(r.e2eMillis()).isCloseTo(90, within(1e-9));
    }

    @Test
    void oneTokenHasATtftButNoTpot() {
        RequestTiming r = timing("a", 0, 30);
        assertThat(r.ttftMillis()).isEqualTo(30);
        assertThat(r.tpotMillis()).isNaN();
        assertThat(r.itlMillis()).isEmpty();
    }

    @Test
    void summaryPoolsRequestsAndSkipsFailures() {
        RequestTiming a = timing("a", 0, 100, 110, 120);
        RequestTiming b = timing("b", 50, 200, 230);
        RequestTiming failed = new RequestTiming("c", 5, 5, 0, 0, new long[0], null, "refused: too long");
        ServingSummary s = ServingSummary.of(0, List.of(a, b, failed));
        assertThat(s.completed()).isEqualTo(2);
        assertThat(s.failed()).isEqualTo(1);
        assertThat(s.outputTokens()).isEqualTo(5);
        assertThat(s.durationSeconds()).isCloseTo(0.230, within(1e-12));
        assertThat(s.outputTokensPerSecond()).isCloseTo(5 / 0.230, within(1e-9));
        assertThat(s.ttft().count()).isEqualTo(2);
        assertThat(s.ttft().mean()).isCloseTo((100 + 150) / 2.0, within(1e-9));
        assertThat(s.itl().count()).isEqualTo(3); // 10, 10, 30
        assertThat(s.itl().max()).isCloseTo(30, within(1e-9));
    }

    @Test
    void throughputRunCountsOnlyTheFullBatchDecodeWindow() {
        // a: first token at 100, b at 140 -> window opens at 140; a ends at 200 -> window closes at 200.
        RequestTiming a = timing("a", 0, 100, 120, 140, 160, 180, 200);
        RequestTiming b = timing("b", 0, 140, 160, 180, 200, 220);
        ThroughputRun run = ThroughputRun.of(List.of(a, b), 9);
        assertThat(run.outputTokens()).isEqualTo(11);
        assertThat(run.wallSeconds()).isCloseTo(0.220, within(1e-12));
        // tokens in (140, 200]: a at 160, 180, 200; b at 160, 180, 200
        assertThat(run.decodeTokens()).isEqualTo(6);
        assertThat(run.decodeTokensPerSecond()).isCloseTo(6 / 0.060, within(1e-9));
        assertThat(run.engineSteps()).isEqualTo(9);
    }

    @Test
    void tokenTimesMustBeAscending() {
        assertThatThrownBy(() -> timing("a", 0, 20, 10)).hasMessageContaining("ascending");
    }
}
