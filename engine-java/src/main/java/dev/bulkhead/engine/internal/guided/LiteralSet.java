package dev.bulkhead.engine.internal.guided;

import java.util.Arrays;
import java.util.List;

/**
 * A fixed list of distinct byte strings (object keys, or the JSON texts of enum values) matched byte by
 * byte. The match state is two ints: {@code lo}, the lowest index still consistent with the bytes read, and
 * {@code p}, how many were read; every index consistent with them shares {@code values[lo][0, p)}, so no set
 * of candidates has to be stored. Callers may bound candidates to {@code [lo, hi]}.
 */
final class LiteralSet {

    private final byte[][] values;

    LiteralSet(List<byte[]> values) {
        this.values = values.toArray(byte[][]::new);
    }

    int size() {
        return values.length;
    }

    byte[] value(int i) {
        return values[i];
    }

    /** The lowest index in [lo, hi] starting with {@code values[lo][0, p)} then {@code b}, or -1. */
    int next(int lo, int hi, int p, int b) {
        byte[] prefix = values[lo];
        for (int j = lo; j <= hi; j++) {
            byte[] v = values[j];
            if (v.length > p && (v[p] & 0xff) == b && (j == lo || Arrays.equals(v, 0, p, prefix, 0, p))) {
                return j;
            }
        }
        return -1;
    }

    /** The index in [lo, hi] equal to {@code values[lo][0, p)}, or -1. */
    int exact(int lo, int hi, int p) {
        byte[] prefix = values[lo];
        for (int j = lo; j <= hi; j++) {
            byte[] v = values[j];
            if (v.length == p && Arrays.equals(v, 0, p, prefix, 0, p)) {
                return j;
            }
        }
        return -1;
    }
}
