package dev.bulkhead.engine.internal.guided;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.GuidedDecoding;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Checks the trie-walking masker against the plain definition: a token is allowed exactly when feeding its bytes to
 * a copy of the automaton succeeds (and EOS, the last id, when the document is complete or nothing else fits).
 */
final class MaskOracle {

    private MaskOracle() {
    }

    /**
     * Takes one random walk of at most {@code steps} allowed tokens, asserting the mask at every step; returns
     * whether the walk ended on EOS with a complete document.
     */
    static boolean randomWalk(TokenVocabulary vocab, int size, GuidedDecoding spec, SplittableRandom rnd, int steps,
                              String label) {
        int eos = size - 1;
        JsonGuide g = new JsonGuideFactory(() -> vocab, size).create(spec, new int[] {eos});
        JsonAutomaton reference = new JsonAutomaton(spec.grammar());
        for (int step = 0; step < steps; step++) {
            long[] mask = g.allowedTokens();
            List<Integer> expected = new ArrayList<>();
            for (int id = 0; id < eos; id++) {
                if (reference.copy().advance(vocab.bytes(id))) {
                    expected.add(id);
                }
            }
            if (reference.isComplete() || expected.isEmpty()) {
                expected.add(eos);
            }
            List<Integer> got = IntStream.range(0, size).filter(i -> (mask[i >>> 6] >>> i & 1) != 0).boxed().toList();
            assertThat(got).as("%s step %d", label, step).isEqualTo(expected);
            int pick = got.get(rnd.nextInt(got.size()));
            if (pick == eos) {
                return reference.isComplete();
            }
            g.accept(pick);
            assertThat(reference.advance(vocab.bytes(pick))).isTrue();
        }
        return false;
    }
}
