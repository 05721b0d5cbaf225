package dev.bulkhead.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MemoryBudgetTest {

    @Test
    void derivesThePoolFromTheBudget() {
        // Llama-3.2-1B shape: 16 layers, 8 KV heads, head dim 64, bf16.
        long perToken = MemoryBudget.kvBytesPerToken(16, 8, 64, 2);
        assertThat(perToken).isEqualTo(32_768L);
        MemoryBudget budget = new MemoryBudget(1L << 30, 16, perToken, 8192);
        assertThat(budget.numBlocks()).isEqualTo(2048);
        assertThat(budget.poolBytes()).isEqualTo(1L << 30);
        KvCacheConfig config = budget.toConfig(true);
        assertThat(config.numBlocks()).isEqualTo(2048);
        assertThat(config.usableBlocks()).isEqualTo(2047);
        assertThat(config.blocksFor(17)).isEqualTo(2);
    }

    @Test
    void roundsDownToWholeBlocks() {
        MemoryBudget budget = new MemoryBudget(1000, 4, 10, 8);
        assertThat(budget.numBlocks()).isEqualTo(25);
        assertThat(budget.poolBytes()).isEqualTo(1000);
        assertThat(new MemoryBudget(1039, 4, 10, 8).numBlocks()).isEqualTo(25);
    }

    @Test
    void rejectsABudgetThatCannotHoldOneMaxLengthSequence() {
        // 8192 tokens need 512 blocks of 16 plus the null block; 512 blocks fit the budget.
        assertThatThrownBy(() -> new MemoryBudget(512L * 16 * 1024, 16, 1024, 8192))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds 512 blocks")
                .hasMessageContaining("maxModelLen 8192")
                .hasMessageContaining("needs 513 blocks")
                .hasMessageContaining("at least " + 513L * 16 * 1024 + " bytes");
        assertThat(new MemoryBudget(513L * 16 * 1024, 16, 1024, 8192).numBlocks()).isEqualTo(513);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new MemoryBudget(0, 16, 1, 1)).hasMessageContaining("budgetBytes must be >= 1");
        assertThatThrownBy(() -> new MemoryBudget(1, 0, 1, 1)).hasMessageContaining("blockSize must be >= 1");
        assertThatThrownBy(() -> new MemoryBudget(1, 1, 0, 1)).hasMessageContaining("kvBytesPerToken must be >= 1");
        assertThatThrownBy(() -> new MemoryBudget(1, 1, 1, 0)).hasMessageContaining("maxModelLen must be >= 1");
        assertThatThrownBy(() -> new MemoryBudget(Long.MAX_VALUE, 1, 1, 1))
                .hasMessageContaining("more than " + Integer.MAX_VALUE);
        assertThatThrownBy(() -> MemoryBudget.kvBytesPerToken(0, 1, 1, 1)).hasMessageContaining("numLayers");
        assertThatThrownBy(() -> new KvCacheConfig(1, 16)).hasMessageContaining("numBlocks must be >= 2");
        assertThatThrownBy(() -> new KvCacheConfig(2, 0)).hasMessageContaining("blockSize must be >= 1");
    }
}
