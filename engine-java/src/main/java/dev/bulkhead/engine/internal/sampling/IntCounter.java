package dev.bulkhead.engine.internal.sampling;

import java.util.Arrays;

/**
 * Counts of non-negative int keys: an open-addressing hash table (linear probing) over slots that keep their
 * insertion order, so iterating the distinct keys costs their number, not the vocabulary size.
 */
final class IntCounter {

    private static final int EMPTY = -1;

    private int[] table = new int[16];   // (capacity) slot index, or EMPTY
    private int[] keys = new int[8];     // (size) distinct keys in insertion order
    private int[] counts = new int[8];   // (size) count of keys[i]
    private int size;
    private long total;

    IntCounter() {
        Arrays.fill(table, EMPTY);
    }

    /** Adds one occurrence of {@code key}. */
    void add(int key) {
        if (key < 0) {
            throw new IllegalArgumentException("token id must be >= 0, got " + key);
        }
        int mask = table.length - 1;
        int pos = mix(key) & mask;
        while (table[pos] != EMPTY) {
            int slot = table[pos];
            if (keys[slot] == key) {
                counts[slot]++;
                total++;
                return;
            }
            pos = (pos + 1) & mask;
        }
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
        }
        keys[size] = key;
        counts[size] = 1;
        table[pos] = size;
        size++;
        total++;
        // NOTE: keep the load factor at most 1/2 so probes stay short.
        if (size * 2 > table.length) {
            rehash(table.length * 2);
        }
    }

    /** Occurrences of {@code key}, 0 when never added. */
    int count(int key) {
        if (key < 0) {
            return 0;
        }
        int mask = table.length - 1;
        int pos = mix(key) & mask;
        while (table[pos] != EMPTY) {
            int slot = table[pos];
            if (keys[slot] == key) {
                return counts[slot];
            }
            pos = (pos + 1) & mask;
        }
        return 0;
    }

    /** Number of distinct keys. */
    int size() {
        return size;
    }

    /** Sum of all counts. */
    long total() {
        return total;
    }

    /** The {@code i}-th distinct key in insertion order, {@code 0 <= i < size()}. */
    int keyAt(int i) {
        return keys[i];
    }

    /** The count of {@link #keyAt(int) keyAt(i)}. */
    int countAt(int i) {
        return counts[i];
    }

    private void rehash(int capacity) {
        table = new int[capacity];
        Arrays.fill(table, EMPTY);
        int mask = capacity - 1;
        for (int slot = 0; slot < size; slot++) {
            int pos = mix(keys[slot]) & mask;
            while (table[pos] != EMPTY) {
                pos = (pos + 1) & mask;
            }
            table[pos] = slot;
        }
    }

    private static int mix(int key) {
        // NOTE: token ids are dense small ints; a multiplicative hash spreads runs of neighbours over the table.
        int h = key * 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
