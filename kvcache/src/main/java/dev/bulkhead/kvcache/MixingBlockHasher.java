package dev.bulkhead.kvcache;

/** {@link BlockHasher#DEFAULT}: xxHash64's round function applied per token id, then murmur3's fmix64. */
final class MixingBlockHasher implements BlockHasher {

    private static final long PRIME1 = 0x9E3779B185EBCA87L;
    private static final long PRIME2 = 0xC2B2AE3D27D4EB4FL;
    private static final long PRIME4 = 0x85EBCA77C2B2AE63L;
    private static final long PRIME5 = 0x27D4EB2F165667C5L;

    @Override
    public long hash(long parentHash, int[] tokenIds, int from, int count) {
        long h = parentHash * PRIME1 + PRIME5 + count;
        for (int i = from; i < from + count; i++) {
            h = round(h, tokenIds[i]);
        }
        return finish(h);
    }

    static long round(long h, int value) {
        long lane = Long.rotateLeft((value & 0xFFFFFFFFL) * PRIME2, 31) * PRIME1;
        return Long.rotateLeft(h ^ lane, 27) * PRIME1 + PRIME4;
    }

    static long finish(long h) {
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        return h ^ (h >>> 33);
    }
}
