package dev.bulkhead.engine.internal.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenHistoryTest {

    @Test
    void countsPromptAndOutputSeparately() {
        TokenHistory h = TokenHistory.ofPrompt(new int[] {5, 5, 7});
        h.addOutput(7);
        h.addOutput(151_000);
        assertThat(h.promptCount(5)).isEqualTo(2);
        assertThat(h.promptCount(7)).isEqualTo(1);
        assertThat(h.outputCount(7)).isEqualTo(1);
        assertThat(h.outputCount(5)).isZero();
        assertThat(h.outputCount(151_000)).isEqualTo(1);
        assertThat(h.promptLength()).isEqualTo(3);
        assertThat(h.outputLength()).isEqualTo(2);
        assertThat(h.outputCount(-3)).isZero();
    }

    @Test
    void rejectsNegativeIds() {
        assertThatThrownBy(() -> new TokenHistory().addOutput(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id must be >= 0, got -1");
    }

    @Test
    void counterAgreesWithAHashMapThroughManyRehashes() {
        Random random = new Random(11);
        IntCounter counter = new IntCounter();
        Map<Integer, Integer> reference = new LinkedHashMap<>();
        for (int i = 0; i < 50_000; i++) {
            int key = random.nextInt(3) == 0 ? random.nextInt(152_000) : random.nextInt(200) * 1024;
            counter.add(key);
            reference.merge(key, 1, Integer::sum);
        }
        assertThat(counter.size()).isEqualTo(reference.size());
        assertThat(counter.total()).isEqualTo(50_000);
        Map<Integer, Integer> iterated = new HashMap<>();
        for (int i = 0; i < counter.size(); i++) {
            iterated.put(counter.keyAt(i), counter.countAt(i));
        }
        assertThat(iterated).isEqualTo(reference);
        assertThat(counter.keyAt(0)).isEqualTo(reference.keySet().iterator().next());
        reference.forEach((k, v) -> assertThat(counter.count(k)).isEqualTo(v));
        assertThat(counter.count(152_001)).isZero();
    }
}
