package dev.bulkhead.server.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchWordPromptsTest {

    @Test
    void promptsAreSeededAndSized() {
        WordPrompts a = new WordPrompts(7);
        assertThat(a.prompt(3, 20)).isEqualTo(new WordPrompts(7).prompt(3, 20));
        assertThat(a.prompt(3, 20)).isNotEqualTo(a.prompt(4, 20));
        assertThat(a.prompt(0, 20).split(" ")).hasSize(19);
        assertThat(a.prompt(0, 1).split(" ")).hasSize(1);
        assertThatThrownBy(() -> a.prompt(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void timingMetricsFollowVllm() {
        long ms = 1_000_000;
        HttpTiming t = new HttpTiming(0, 0, 10 * ms, 50 * ms, new long[] {20 * ms, 30 * ms, 40 * ms}, 5, 3, null);
        assertThat(t.succeeded()).isTrue();
        assertThat(t.ttftMillis()).isEqualTo(10);
        assertThat(t.tpotMillis()).isEqualTo(10);
        assertThat(t.itlMillis()).containsExactly(10, 10);
        assertThat(t.e2eMillis()).isEqualTo(40);
        BenchSummary s = BenchSummary.of(0, List.of(t, HttpTiming.failed(1, 0, 0, "boom")));
        assertThat(s.completed()).isEqualTo(1);
        assertThat(s.errors()).isEqualTo(1);
        assertThat(s.firstError()).isEqualTo("boom");
        assertThat(s.outputTokens()).isEqualTo(3);
    }
}
