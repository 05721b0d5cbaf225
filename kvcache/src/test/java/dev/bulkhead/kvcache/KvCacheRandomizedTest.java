package dev.bulkhead.kvcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random walks over the manager, with a shadow KV store: every slot records the token and position
 * written to it, so any hit that returned a block with different content (or a prefix with a different
 * history) shows up as a mismatch when the sequence reads its prefix back.
 */
class KvCacheRandomizedTest {

    private static final int BS = 4;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void randomWalkKeepsInvariantsAndContent(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        BlockHasher hasher = seed % 2 == 0 ? BlockHasher.DEFAULT : (p, t, f, c) -> c == 0 ? p : (p + t[f]) & 3;
        KvCacheManager kv = new KvCacheManager(new KvCacheConfig(24, BS), hasher);
        long[] slotToken = new long[24 * BS];  // see content(); 0 = never written
        Map<String, int[]> tokensOf = new HashMap<>();
        Map<String, Integer> computed = new HashMap<>();
        Map<String, Long> saltOf = new HashMap<>();
        List<String> open = new ArrayList<>();
        int next = 0;
        for (int op = 0; op < 3000; op++) {
            int choice = random.nextInt(10);
            if (choice < 3 || open.isEmpty()) {
                String id = "s" + next++;
                int[] t = new int[4 + random.nextInt(24)];
                for (int i = 0; i < t.length; i++) {
                    t[i] = random.nextInt(3);  // tiny vocabulary: many shared prefixes
                }
                long salt = random.nextInt(2);
                PrefixHit hit = kv.findCachedPrefix(t, t.length, salt);
                if (kv.allocate(id, hit, t.length)) {
                    open.add(id);
                    tokensOf.put(id, t);
                    saltOf.put(id, salt);
                    computed.put(id, hit.numTokens());
                    verifyPrefix(kv, id, t, salt, hit.numTokens(), slotToken);
                }
            } else if (choice < 8) {
                String id = open.get(random.nextInt(open.size()));
                int[] t = tokensOf.get(id);
                int done = computed.get(id);
                if (done < t.length) {
                    int upTo = Math.min(t.length, done + 1 + random.nextInt(6));
                    int[] table = kv.blockTable(id);
                    for (int p = done; p < upTo; p++) {
                        int slot = table[p / BS] * BS + p % BS;
                        slotToken[slot] = content(t[p], p, saltOf.get(id));
                    }
                    computed.put(id, upTo);
                    kv.cacheFullBlocks(id, t, upTo);
                    verifyPrefix(kv, id, t, saltOf.get(id), upTo, slotToken);
                }
            } else {
                String id = open.remove(random.nextInt(open.size()));
                assertThat(kv.free(id)).isTrue();
            }
            kv.checkInvariants();
        }
        open.forEach(kv::free);
        kv.checkInvariants();
        assertThat(kv.stats().numInUse()).isZero();
        assertThat(kv.stats().hitTokens()).isPositive();
    }

    /** What a slot holds after computing token {@code token} at {@code position} under {@code salt}. */
    private static long content(int token, int position, long salt) {
        return ((((long) token) << 32 | position) << 1 | salt) + 1;
    }

    private static void verifyPrefix(KvCacheManager kv, String id, int[] t, long salt, int upTo, long[] slotToken) {
        int[] table = kv.blockTable(id);
        for (int p = 0; p < upTo; p++) {
            int slot = table[p / BS] * BS + p % BS;
            assertThat(slotToken[slot]).as("slot of %s position %d", id, p).isEqualTo(content(t[p], p, salt));
        }
    }
}
