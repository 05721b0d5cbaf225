package dev.bulkhead.kvcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BlockHasherTest {

    private final BlockHasher hasher = BlockHasher.DEFAULT;

    @Test
    void isAPureFunctionOfParentAndTokens() {
        int[] a = {5, 6, 7, 8, 1, 2, 3, 4};
        long root = hasher.root(1L);
        assertThat(hasher.hash(root, a, 4, 4)).isEqualTo(hasher.hash(root, new int[] {1, 2, 3, 4}, 0, 4));
        assertThat(hasher.hash(root, a, 0, 4)).isNotEqualTo(hasher.hash(root, new int[] {6, 5, 7, 8}, 0, 4));
        assertThat(hasher.hash(root, a, 0, 4)).isNotEqualTo(hasher.hash(root + 1, a, 0, 4));
        assertThat(hasher.root(1L)).isNotEqualTo(hasher.root(2L));
        assertThat(BlockHasher.salt("llama")).isEqualTo(BlockHasher.salt("llama"))
                .isNotEqualTo(BlockHasher.salt("llama+lora-a"));
    }

    @Test
    void hasNoCollisionsOnManyNearbyBlocks() {
        // NOTE: block i spells i in base 4, so all 100k blocks differ, most in one or two tokens.
        Set<Long> hashes = new HashSet<>();
        int[] block = new int[16];
        long root = hasher.root(0);
        for (int i = 0; i < 100_000; i++) {
            for (int j = 0, v = i; j < block.length; j++, v >>= 2) {
                block[j] = v & 3;
            }
            hashes.add(hasher.hash(root, block, 0, block.length));
        }
        assertThat(hashes).hasSize(100_000);
    }
}
