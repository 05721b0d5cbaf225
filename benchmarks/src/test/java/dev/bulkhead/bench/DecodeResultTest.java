package dev.bulkhead.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class DecodeResultTest {

    @Test
    void bestAndMedianRatesComeFromTheRunTimes() {
        DecodeResult r = new DecodeResult("bulkhead", "f32", 2, 100, List.of(2.0, 1.0, 4.0), null);
        assertThat(r.bestTokensPerSecond()).isCloseTo(100.0, within(1e-9));
        assertThat(r.medianTokensPerSecond()).isCloseTo(50.0, within(1e-9));
        assertThat(new DecodeResult("x", "f32", 1, 10, List.of(1.0, 4.0), "").medianTokensPerSecond())
                .isCloseTo(4.0, within(1e-9));
        assertThat(r.note()).isEmpty();
    }

    @Test
    void rejectsResultsThatCannotBeRates() {
        assertThatThrownBy(() -> new DecodeResult("x", "f32", 1, 10, List.of(), ""))
                .hasMessageContaining("runSeconds");
        assertThatThrownBy(() -> new DecodeResult("x", "f32", 1, 10, List.of(0.0), ""))
                .hasMessageContaining("positive");
        assertThatThrownBy(() -> new DecodeResult("x", "f32", 0, 10, List.of(1.0), ""))
                .hasMessageContaining("threads");
        assertThatThrownBy(() -> new DecodeSpec(java.nio.file.Path.of("."), "f32", 1, 10, 0, 0))
                .hasMessageContaining("runs");
    }
}
