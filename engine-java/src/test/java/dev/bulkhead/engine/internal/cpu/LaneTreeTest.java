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
}
