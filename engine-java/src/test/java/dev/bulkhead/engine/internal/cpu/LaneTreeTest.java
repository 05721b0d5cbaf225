package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class LaneTreeTest {

    /** The documented order, lane pairs left to right and then pairs of pairs, written out in scalars. */
    private static float tree(float[] l, int from, int n) {
        if (n == 1) {
            return l[from];
        }
        return tree(l, from, n / 2) + tree(l, from + n / 2, n / 2);
    }

    /**
     * Every species width gives the tree's bits. The values span many magnitudes with cancellations, so a
     * different order (a left-to-right sum, or a reduction the JIT picks) would round differently.
     */
    @Test
    void sumsInTheDocumentedOrderForEveryWidth() {
        Random rnd = new Random(3);
        for (VectorSpecies<Float> species : new VectorSpecies[] {FloatVector.SPECIES_64, FloatVector.SPECIES_128,
                FloatVector.SPECIES_256, FloatVector.SPECIES_512}) {
            LaneTree tree = LaneTree.of(species);
            int n = species.length();
            int differsFromLeftToRight = 0;
            for (int trial = 0; trial < 2000; trial++) {
                float[] lanes = new float[n];
                for (int i = 0; i < n; i++) {
                    lanes[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
                }
                float expected = tree(lanes, 0, n);
                assertThat(Float.floatToRawIntBits(tree.sum(FloatVector.fromArray(species, lanes, 0))))
                        .as("%d lanes, trial %d", n, trial).isEqualTo(Float.floatToRawIntBits(expected));
                float leftToRight = 0f;
                for (float v : lanes) {
                    leftToRight += v;
                }
                if (leftToRight != expected) {
                    differsFromLeftToRight++;
                }
            }
            if (n > 2) {
                assertThat(differsFromLeftToRight).as("the data tells orders apart at %d lanes", n).isPositive();
            }
        }
    }

    /** Eight vectors' trees at once: lane i holds the bits {@code sum} gives vector i, for every lane. */
    @Test
    void sumsOfEightVectorsGiveEachVectorsTreeInItsLane() {
        Random rnd = new Random(4);
        LaneTree tree = LaneTree.of(FloatVector.SPECIES_256);
        for (int trial = 0; trial < 2000; trial++) {
            FloatVector[] v = new FloatVector[8];
            float[] expected = new float[8];
            for (int i = 0; i < 8; i++) {
                float[] lanes = new float[8];
                for (int l = 0; l < 8; l++) {
                    lanes[l] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
                }
                v[i] = FloatVector.fromArray(FloatVector.SPECIES_256, lanes, 0);
                expected[i] = tree(lanes, 0, 8);
            }
            float[] sums = tree.sums(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]).toArray();
            for (int i = 0; i < 8; i++) {
                assertThat(Float.floatToRawIntBits(sums[i])).as("trial %d lane %d", trial, i)
                        .isEqualTo(Float.floatToRawIntBits(expected[i]));
            }
        }
    }

    @Test
    void sumsTakesOnlyEightLanes() {
        LaneTree tree = LaneTree.of(FloatVector.SPECIES_128);
        FloatVector z = FloatVector.zero(FloatVector.SPECIES_128);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> tree.sums(z, z, z, z, z, z, z, z))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("eight lanes");
    }
}
