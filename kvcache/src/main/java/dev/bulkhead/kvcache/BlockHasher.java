package dev.bulkhead.kvcache;

/**
 * Hashes one full block of token ids together with the hash of its parent block, so that a block's hash names
 * its whole prefix (a hash chain). The chain starts at {@link #root(long)} of a salt that names the model and
 * adapter, so equal token ids under different salts never share KV.
 *
 * <p>A hash only finds a candidate: the prefix cache also compares token ids, salt and parent block on every hit,
 * so a collision costs a cache miss, never wrong KV. Implementations must be pure functions.
 */
@FunctionalInterface
public interface BlockHasher {

    /** The default 64-bit hasher (xxHash64-style rounds per token and a murmur3 finaliser). */
    BlockHasher DEFAULT = new MixingBlockHasher();

    /**
     * Hashes {@code count} token ids of {@code tokenIds} starting at {@code from}, chained to {@code parentHash}.
     */
    long hash(long parentHash, int[] tokenIds, int from, int count);

    /** The parent hash of a sequence's first block under {@code salt}. */
    default long root(long salt) {
        return hash(salt, new int[0], 0, 0);
    }

    /** A 64-bit salt for a model or adapter identity such as {@code "llama-3.2-1b@rev"} or an adapter name. */
    static long salt(String identity) {
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < identity.length(); i++) {
            h = MixingBlockHasher.round(h, identity.charAt(i));
        }
        return MixingBlockHasher.finish(h ^ identity.length());
    }
}
