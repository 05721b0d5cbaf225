package dev.bulkhead.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.tensor.DType;
import org.junit.jupiter.api.Test;

class WeightTrafficTest {

    @Test
    void stories110mStreamsEveryProjectionAndTheClassifierOncePerToken() {
        ModelConfig c = ModelShapes.get("stories110m").config();
        long perLayer = 4L * 768 * 768 + 3L * 768 * 2048 + 2 * 768;
        long expected = 12 * perLayer + 32000L * 768 + 2 * 768;
        assertThat(WeightTraffic.elementsPerToken(c)).isEqualTo(expected);
        assertThat(WeightTraffic.bytesPerToken(c, DType.F32)).isEqualTo(4 * expected);
        assertThat(WeightTraffic.bytesPerToken(c, DType.BF16)).isEqualTo(2 * expected);
    }

    @Test
    void groupedQueryAttentionReadsSmallerKeyAndValueProjections() {
        ModelConfig c = ModelShapes.get("llama-3.2-1b").config();
        long hidden = 2048;
        long kvDim = 8 * 64;
        long perLayer = 2 * hidden * hidden + 2 * hidden * kvDim + 3 * hidden * 8192 + 2 * hidden;
        assertThat(WeightTraffic.elementsPerToken(c)).isEqualTo(16 * perLayer + 128256L * hidden + 2 * hidden);
    }
}
