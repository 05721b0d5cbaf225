package dev.bulkhead.server.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LatencyStatsTest {

    @Test
    void percentilesInterpolateLikeNumpy() {
        double[] sorted = {1, 2, 3, 4};
        // numpy.percentile([1,2,3,4], [0, 50, 90, 99, 100]) = [1, 2.5, 3.7, 3.97, 4]
        assertThat(LatencyStats.percentile(sorted, 0)).isEqualTo(1);
        assertThat(LatencyStats.percentile(sorted, 50)).isCloseTo(2.5, within(1e-12));
        assertThat(LatencyStats.percentile(sorted, 90)).isCloseTo(3.7, within(1e-12));
        assertThat(LatencyStats.percentile(sorted, 99)).isCloseTo(3.97, within(1e-12));
        assertThat(LatencyStats.percentile(sorted, 100)).isEqualTo(4);
    }

    @Test
    void statsOfOneToAHundred() {
        double[] values = new double[100];
        for (int i = 0; i < values.length; i++) {
            values[values.length - 1 - i] = i + 1; // unsorted on purpose
        }
        LatencyStats s = LatencyStats.of(values);
        assertThat(s.count()).isEqualTo(100);
        assertThat(s.mean()).isCloseTo(50.5, within(1e-12));
        assertThat(s.min()).isEqualTo(1);
        assertThat(s.max()).isEqualTo(100);
        assertThat(s.p50()).isCloseTo(50.5, within(1e-12));
        assertThat(s.p90()).isCloseTo(90.1, within(1e-12));
        assertThat(s.p99()).isCloseTo(99.01, within(1e-12));
        assertThat(values[0]).isEqualTo(100); // input untouched
    }

    @Test
    void singleValueIsEveryPercentile() {
        LatencyStats s = LatencyStats.of(new double[] {7});
        assertThat(s.p50()).isEqualTo(7);
        assertThat(s.p99()).isEqualTo(7);
    }

    @Test
    void emptySampleIsNaNWithCountZero() {
        LatencyStats s = LatencyStats.of(new double[0]);
        assertThat(s.count()).isZero();
        assertThat(s.p50()).isNaN();
    }

    @Test
    void badInputIsRejected() {
        assertThatThrownBy(() -> LatencyStats.of(new double[] {1, Double.NaN})).hasMessageContaining("NaN");
        assertThatThrownBy(() -> LatencyStats.percentile(new double[] {1}, 101)).hasMessageContaining("[0, 100]");
        assertThatThrownBy(() -> LatencyStats.percentile(new double[0], 50)).hasMessageContaining("empty");
    }
}
