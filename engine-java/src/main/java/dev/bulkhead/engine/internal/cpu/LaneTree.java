package dev.bulkhead.engine.internal.cpu;

import jdk.incubator.vector.FloatVector;
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
 * @param lanes the species' lanes: a power of two, at most 16
 */
record LaneTree(int lanes, VectorShuffle<Float> by1, VectorShuffle<Float> by2, VectorShuffle<Float> by4,
                VectorShuffle<Float> by8) {

    static LaneTree of(VectorSpecies<Float> species) {
        int n = species.length();
        if (Integer.bitCount(n) != 1 || n < 2 || n > 16) {
            throw new IllegalArgumentException("lane count must be a power of two in [2, 16], got " + n);
        }
        return new LaneTree(n, partner(species, 1), partner(species, 2), partner(species, 4), partner(species, 8));
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
}
