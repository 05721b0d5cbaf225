package dev.bulkhead.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The automatic KV size: the full demand, capped by the memory limit, never under one full-context sequence. */
class AutoKvBudgetTest {

    // stories110M in F32 on the CPU backend: 12 layers, 12 KV heads of 64 dims, f32 K and V = 72 KiB a token.
    private static final long PER_TOKEN = MemoryBudget.kvBytesPerToken(12, 12, 64, 4);
    private static final long BLOCK = 16 * PER_TOKEN;

    private static KvMemoryLimit limit(long bytes) {
        return new KvMemoryLimit(bytes, "a test limit");
    }

    @Test
    void coversEveryRunningSequenceAtTheFullContextWhenMemoryAllows() {
        assertThat(PER_TOKEN).isEqualTo(72L << 10);
        AutoKvBudget b = AutoKvBudget.size(16, PER_TOKEN, 128, 64, limit(64L << 30));
        // 64 sequences * 8 blocks of 16 tokens, plus the null block.
        assertThat(b.bound()).isEqualTo(AutoKvBudget.Bound.DEMAND);
        assertThat(b.budgetBytes()).isEqualTo((64 * 8 + 1) * BLOCK).isEqualTo(b.demandBytes());
        MemoryBudget pool = new MemoryBudget(b.budgetBytes(), 16, PER_TOKEN, 128);
        assertThat(pool.toConfig(false).usableBlocks() * 16).isEqualTo(64 * 128);
    }

    @Test
    void roundsAPartialLastBlockOfEachSequenceUp() {
        AutoKvBudget b = AutoKvBudget.size(16, 10, 100, 3, limit(1L << 30));
        assertThat(b.budgetBytes()).isEqualTo((3 * 7 + 1) * 16 * 10L);
    }

    @Test
    void isCappedByTheMemoryLimitInWholeBlocks() {
        long limit = 100 * BLOCK + BLOCK / 2;
        AutoKvBudget b = AutoKvBudget.size(16, PER_TOKEN, 128, 64, limit(limit));
        assertThat(b.bound()).isEqualTo(AutoKvBudget.Bound.MEMORY);
        assertThat(b.budgetBytes()).isEqualTo(100 * BLOCK);
        assertThat(b.demandBytes()).isEqualTo((64 * 8 + 1) * BLOCK);
        assertThat(new MemoryBudget(b.budgetBytes(), 16, PER_TOKEN, 128).numBlocks()).isEqualTo(100);
    }

    @Test
    void oneFullContextSequenceIsEnough() {
        // 2048 tokens: 128 blocks, plus the null block.
        AutoKvBudget b = AutoKvBudget.size(16, PER_TOKEN, 2048, 64, limit(129 * BLOCK));
        assertThat(b.bound()).isEqualTo(AutoKvBudget.Bound.MEMORY);
        assertThat(b.budgetBytes()).isEqualTo(129 * BLOCK);
        assertThat(new MemoryBudget(b.budgetBytes(), 16, PER_TOKEN, 2048).numBlocks()).isEqualTo(129);
    }

    @Test
    void failsNamingTheSettingTheNeedAndTheLimitWhenOneSequenceDoesNotFit() {
        long limit = 129 * BLOCK - 1;
        assertThatThrownBy(() -> AutoKvBudget.size(16, PER_TOKEN, 2048, 64,
                new KvMemoryLimit(limit, "3/4 of the 96 MiB heap")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kvCacheBytes (--kv-cache-mb)")
                .hasMessageContaining("maxModelLen 2048 tokens needs " + 129 * BLOCK + " bytes")
                .hasMessageContaining("129 blocks of 16 tokens at 73728 bytes per token")
                .hasMessageContaining("the limit for the KV pool is " + limit + " bytes")
                .hasMessageContaining("3/4 of the 96 MiB heap");
        assertThatThrownBy(() -> AutoKvBudget.size(16, PER_TOKEN, 16, 1, limit(0)))
                .hasMessageContaining("the limit for the KV pool is 0 bytes");
    }

    @Test
    void aDemandPastALongIsCappedNotOverflowed() {
        AutoKvBudget b = AutoKvBudget.size(1024, 1L << 40, 1024, 1 << 16, limit(Long.MAX_VALUE));
        assertThat(b.demandBytes()).isEqualTo(Long.MAX_VALUE);
        assertThat(b.bound()).isEqualTo(AutoKvBudget.Bound.MEMORY);
        assertThat(b.budgetBytes()).isEqualTo((Long.MAX_VALUE / (1024L << 40)) * (1024L << 40));
    }

    @Test
    void rejectsMeaninglessInputs() {
        assertThatThrownBy(() -> AutoKvBudget.size(16, PER_TOKEN, 128, 0, limit(1L << 30)))
                .hasMessageContaining("maxRunning must be >= 1");
        assertThatThrownBy(() -> new KvMemoryLimit(-1, "x")).hasMessageContaining("bytes must be >= 0");
        assertThatThrownBy(() -> new KvMemoryLimit(1, " ")).hasMessageContaining("source");
    }
}
