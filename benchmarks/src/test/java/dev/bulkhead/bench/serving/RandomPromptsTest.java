package dev.bulkhead.bench.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RandomPromptsTest {

    @Test
    void promptsStartWithBosAndAvoidSpecialIds() {
        int[] p = new RandomPrompts(1000, 1, 5).prompt(0, 500);
        assertThat(p).hasSize(500);
        assertThat(p[0]).isEqualTo(1);
        for (int i = 1; i < p.length; i++) {
            assertThat(p[i]).isBetween(RandomPrompts.FIRST_ORDINARY_ID, 999);
        }
        assertThat(new RandomPrompts(1000, -1, 5).prompt(0, 3)[0]).isGreaterThanOrEqualTo(3);
    }

    @Test
    void sameSeedAndIndexGiveTheSamePromptAndAnythingElseAnother() {
        RandomPrompts a = new RandomPrompts(32000, 1, 7);
        assertThat(a.prompt(3, 40)).isEqualTo(new RandomPrompts(32000, 1, 7).prompt(3, 40));
        assertThat(a.prompt(3, 40)).isNotEqualTo(a.prompt(4, 40));
        assertThat(a.prompt(3, 40)).isNotEqualTo(new RandomPrompts(32000, 1, 8).prompt(3, 40));
    }

    @Test
    void badArgumentsAreRejected() {
        assertThatThrownBy(() -> new RandomPrompts(3, -1, 0)).hasMessageContaining("vocabSize");
        assertThatThrownBy(() -> new RandomPrompts(100, 100, 0)).hasMessageContaining("bosId");
        assertThatThrownBy(() -> new RandomPrompts(100, 1, 0).prompt(0, 0)).hasMessageContaining("length");
    }
}
