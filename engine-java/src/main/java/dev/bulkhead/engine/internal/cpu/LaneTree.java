package dev.bulkhead.engine.internal.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU kernels' horizontal sum: all lanes of a vector added in one fixed order, pairs left to right, then pairs
 * of pairs ({@code ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))} for eight lanes).
 * NOTE: not {@code reduceLanes(ADD)}: the Vector API leaves the order of a float add-reduction unspecified, so it
 * may differ between the interpreter and C2 or between CPUs, and the CPU backend must give bit-identical results
 * for a row whatever the batch, split or JIT state.
 *
 * <p>Each level adds every lane to its partner {@code i ^ width} with a constant shuffle, so lane 0 ends with the
 * tree's sum (float addition is commutative: which side a partner sits on does not change the bits). NOTE: in
 * registers rather than through {@code lane(i)} extractions, each of which inlines a large graph (a kernel with
 * a few of them crossed C2's inlining node limit and ran four to twenty times slower), or through a scratch array,
 * whose vector store then scalar loads JFR found in 16% of a Q4_K_M decode's samples. A record, so that C2 trusts
 * its fields as constants when it is held in a static final field.
 *
 * <p>{@link #sums} takes eight vectors' trees at once, for kernels that produce eight sums side by side: each level
 * merges two vectors' partial sums into one, so the eight trees cost seven merges instead of eight trees' worth of
 * shuffles and adds, with the same additions in the same order.
 *
 * @param lanes the species' lanes: a power of two, at most 16
 * @param odd1 lanes i with bit 0 set, and so on: which lanes of a merged level come from the second vector
 */
record LaneTree(int lanes, VectorShuffle<Float> by1, VectorShuffle<Float> by2, VectorShuffle<Float> by4,
                VectorShuffle<Float> by8, VectorMask<Float> odd1, VectorMask<Float> odd2, VectorMask<Float> odd4) {

    static LaneTree of(VectorSpecies<Float> species) {
        int n = species.length();
        if (Integer.bitCount(n) != 1 || n < 2 || n > 16) {
            throw new IllegalArgumentException("lane count must be a power of two in [2, 16], got " + n);
        }
        return new LaneTree(n, partner(species, 1), partner(species, 2), partner(species, 4), partner(species, 8),
                bit(species, 1), bit(species, 2), bit(species, 4));
    }

    /** Lanes whose index has {@code bit} set. */
    private static VectorMask<Float> bit(VectorSpecies<Float> species, int bit) {
        boolean[] set = new boolean[species.length()];
        for (int i = 0; i < set.length; i++) {
            set[i] = (i & bit) != 0;
        }
        return VectorMask.fromArray(species, set, 0);
    }

    /** Lane i to lane {@code i ^ width}; identity where the species has no such partner (a level never used). */
    private static VectorShuffle<Float> partner(VectorSpecies<Float> species, int width) {
        int n = species.length();
        return VectorShuffle.fromOp(species, i -> width < n ? i ^ width : i);
    }

    /** The sum of all lanes of {@code v}, in the tree's order. */
    float sum(FloatVector v) {
        v = v.add(v.rearrange(by1));
        if (lanes > 2) {
            v = v.add(v.rearrange(by2));
        }
        if (lanes > 4) {
            v = v.add(v.rearrange(by4));
        }
        if (lanes > 8) {
            v = v.add(v.rearrange(by8));
        }
        return v.lane(0);
    }

    /**
     * For a species of exactly eight lanes: lane i of the result is {@code sum(v_i)}, the bits {@link #sum}
     * gives for each vector. Lane i of a merged level holds the partial sum of lanes {@code i} and
     * {@code i ^ width} of the first vector where bit {@code width} of i is clear, of the second where it is set:
     * after the levels of width 1, 2 and 4 every lane holds its own vector's whole tree, each addition the one
     * {@link #sum} makes (float addition is commutative).
     */
    FloatVector sums(FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, FloatVector v4,
                     FloatVector v5, FloatVector v6, FloatVector v7) {
        if (lanes != 8) {
            throw new IllegalStateException("sums takes eight lanes, the species has " + lanes);
        }
        FloatVector m01 = merge(v0, v1, by1, odd1);
        FloatVector m23 = merge(v2, v3, by1, odd1);
        FloatVector m45 = merge(v4, v5, by1, odd1);
        FloatVector m67 = merge(v6, v7, by1, odd1);
        return merge(merge(m01, m23, by2, odd2), merge(m45, m67, by2, odd2), by4, odd4);
    }

    /** One level of two vectors: {@code x[i] + x[i ^ w]} where {@code second} is clear, {@code y}'s where set. */
    private static FloatVector merge(FloatVector x, FloatVector y, VectorShuffle<Float> partner,
                                     VectorMask<Float> second) {
        return x.blend(y.rearrange(partner), second).add(x.rearrange(partner).blend(y, second));
    }
}
