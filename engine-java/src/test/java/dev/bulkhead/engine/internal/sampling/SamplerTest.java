package dev.bulkhead.engine.internal.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bulkhead.engine.api.SamplingParams;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final TokenHistory NO_HISTORY = new TokenHistory();

    private static float[] logitsOf(double... probs) {
        float[] out = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            out[i] = (float) Math.log(probs[i]);
        }
        return out;
    }

    private static int sample(Sampler s, float[] logits) {
        return s.sample(logits, 0, logits.length, NO_HISTORY);
    }

    private static int referenceArgmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static Set<Integer> keptBy(SamplingParams params, float[] logits) {
        float[] processed = new Sampler(params).processedLogits(logits, 0, logits.length, NO_HISTORY);
        Set<Integer> kept = new TreeSet<>();
        for (int i = 0; i < processed.length; i++) {
            if (processed[i] != Float.NEGATIVE_INFINITY) {
                kept.add(i);
            }
        }
        return kept;
    }

    private static Set<Integer> drawn(SamplingParams params, float[] logits, int draws) {
        Sampler s = new Sampler(params.toBuilder().seed(1234L).build());
        Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < draws; i++) {
            seen.add(sample(s, logits));
        }
        return seen;
    }

    /** Both the processed logits and 5000 seeded draws keep exactly {@code expected}. */
    private static void assertKeeps(SamplingParams params, float[] logits, Integer... expected) {
        assertThat(keptBy(params, logits)).containsExactly(expected);
        assertThat(drawn(params, logits, 5000)).containsExactly(expected);
    }

    @Test
    void greedyIsArgmaxWithLowestIdOnTies() {
        Sampler greedy = new Sampler(SamplingParams.greedy(1));
        assertThat(sample(greedy, new float[] {1, 3, 3, 2})).isEqualTo(1);
        assertThat(sample(greedy, new float[] {-5, -5, -5})).isZero();
        Random random = new Random(1);
        for (int row = 0; row < 20; row++) {
            float[] logits = new float[1000];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) random.nextGaussian() * 4;
            }
            assertThat(sample(greedy, logits)).isEqualTo(referenceArgmax(logits));
        }
    }

    @Test
    void topKOneIsGreedyEvenOnTies() {
        Random random = new Random(2);
        for (long seed = 0; seed < 20; seed++) {
            Sampler topOne = new Sampler(SamplingParams.builder().topK(1).temperature(1.5f).seed(seed).build());
            float[] logits = new float[500];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = random.nextInt(20);
            }
            assertThat(sample(topOne, logits)).isEqualTo(referenceArgmax(logits));
        }
    }

    @Test
    void temperatureTowardsZeroBecomesArgmax() {
        float[] logits = {1.0f, 1.5f, 0.2f, 1.2f};
        for (float t : new float[] {1e-6f, 1e-3f, 0.01f}) {
            Sampler s = new Sampler(SamplingParams.builder().temperature(t).seed(5L).build());
            for (int i = 0; i < 1000; i++) {
                assertThat(sample(s, logits)).as("temperature %s", t).isEqualTo(1);
            }
        }
        // At a moderate temperature the runner-up (0.3 below the top) is still drawn.
        assertThat(drawn(SamplingParams.builder().temperature(0.1f).build(), logits, 2000)).contains(1, 3);
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        float[] logits = new float[32];
        int[] a = draws(42L, logits);
        int[] b = draws(42L, logits);
        int[] c = draws(43L, logits);
        assertThat(a).isEqualTo(b);
        assertThat(c).isNotEqualTo(a);
        assertThat(IntStream.of(a).distinct().count()).isGreaterThan(10);
    }

    private static int[] draws(long seed, float[] logits) {
        Sampler s = new Sampler(SamplingParams.builder().seed(seed).build());
        return IntStream.range(0, 200).map(i -> sample(s, logits)).toArray();
    }

    @Test
    void unseededSamplersDiffer() {
        float[] logits = new float[1000];
        int[] a = IntStream.range(0, 50).map(i -> sample(new Sampler(SamplingParams.defaults()), logits)).toArray();
        int[] b = IntStream.range(0, 50).map(i -> sample(new Sampler(SamplingParams.defaults()), logits)).toArray();
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void frequenciesMatchSoftmaxAtTemperatureOne() {
        assertFrequenciesMatchSoftmax(new float[] {1.0f, 0.5f, 0f, -0.5f, 2.0f}, 1.0f);
    }

    @Test
    void frequenciesMatchSoftmaxOfScaledLogits() {
        assertFrequenciesMatchSoftmax(new float[] {1.0f, 0.5f, 0f, -0.5f, 2.0f}, 0.7f);
    }

    private static void assertFrequenciesMatchSoftmax(float[] logits, float temperature) {
        double[] p = new double[logits.length];
        double z = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] / temperature);
            z += p[i];
        }
        Sampler s = new Sampler(SamplingParams.builder().temperature(temperature).seed(7L).build());
        int draws = 20_000;
        int[] counts = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            counts[sample(s, logits)]++;
        }
        for (int i = 0; i < p.length; i++) {
            // NOTE: the standard error of each frequency is below 0.0036; 0.015 is over four of them.
            assertThat((double) counts[i] / draws).as("token %d", i).isCloseTo(p[i] / z, within(0.015));
        }
    }

    @Test
    void topKKeepsTheLargestAndTiesWithTheKth() {
        float[] logits = {5, 4, 4, 3, 1};
        assertKeeps(SamplingParams.builder().topK(2).build(), logits, 0, 1, 2);
        assertKeeps(SamplingParams.builder().topK(4).build(), logits, 0, 1, 2, 3);
        assertKeeps(SamplingParams.builder().topK(10).build(), logits, 0, 1, 2, 3, 4);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        float[] logits = logitsOf(0.1, 0.4, 0.2, 0.3);
        assertKeeps(SamplingParams.builder().topP(0.3f).build(), logits, 1);
        assertKeeps(SamplingParams.builder().topP(0.6f).build(), logits, 1, 3);
        assertKeeps(SamplingParams.builder().topP(0.75f).build(), logits, 1, 2, 3);
    }

    @Test
    void topPRenormalisesAfterTopK() {
        float[] logits = logitsOf(0.4, 0.3, 0.2, 0.1);
        // Over the top 3 the masses are 0.444, 0.333, 0.222: the first two already exceed 0.75.
        assertKeeps(SamplingParams.builder().topK(3).topP(0.75f).build(), logits, 0, 1);
        assertKeeps(SamplingParams.builder().topP(0.75f).build(), logits, 0, 1, 2);
    }

    @Test
    void minPKeepsTokensAboveAFractionOfTheTopAfterTemperature() {
        float[] logits = logitsOf(0.5, 0.25, 0.15, 0.1);
        assertKeeps(SamplingParams.builder().minP(0.45f).build(), logits, 0, 1);
        // At temperature 2 the ratios to the top are sqrt(p / 0.5): 1, 0.71, 0.55, 0.45.
        assertKeeps(SamplingParams.builder().minP(0.45f).temperature(2f).build(), logits, 0, 1, 2);
        assertKeeps(SamplingParams.builder().minP(1f).build(), logits, 0);
    }

    @Test
    void largeVocabularyTruncationMatchesAFullSortReference() {
        Random random = new Random(3);
        float[] logits = new float[50_000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        SamplingParams[] cases = {
            SamplingParams.builder().temperature(0.8f).topP(0.9f).build(),
            SamplingParams.builder().temperature(1.3f).topP(0.999f).build(),
            SamplingParams.builder().temperature(0.7f).topK(50).topP(0.9f).minP(0.05f).build(),
            SamplingParams.builder().temperature(1f).topK(2000).build(),
        };
        for (SamplingParams params : cases) {
            assertThat(keptBy(params, logits)).as(params.toString()).isEqualTo(referenceKept(params, logits));
        }
    }

    @Test
    void flatDistributionTopPBreaksTiesByLowestId() {
        float[] logits = new float[1000];
        SamplingParams params = SamplingParams.builder().topP(0.5f).build();
        assertThat(keptBy(params, logits)).isEqualTo(referenceKept(params, logits)).hasSize(500).contains(0, 499);
    }

    /** Straightforward top-k → top-p → min-p over a full sort in doubles, as vLLM describes it. */
    private static Set<Integer> referenceKept(SamplingParams params, float[] logits) {
        int n = logits.length;
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i));
        int k = params.topK() == 0 ? n : Math.min(params.topK(), n);
        float kth = logits[order[k - 1]];
        double max = logits[order[0]];
        double[] w = new double[n];
        double z = 0;
        for (int i = 0; i < n; i++) {
            w[i] = logits[i] >= kth ? Math.exp((logits[i] - max) / params.temperature()) : 0;
            z += w[i];
        }
        Set<Integer> kept = new TreeSet<>();
        double before = 0;
        for (int i : order) {
            if (w[i] == 0 || before >= params.topP() * z) {
                break;
            }
            before += w[i];
            if (w[i] >= params.minP()) {
                kept.add(i);
            }
        }
        return kept;
    }

    @Test
    void penaltiesFollowTheirFormulas() {
        float[] logits = {2f, -2f, 1f, 0.5f, -1f, 3f};
        TokenHistory history = TokenHistory.ofPrompt(new int[] {0, 1, 1});
        for (int id : new int[] {2, 2, 3, 0, 99}) {
            history.addOutput(id);
        }
        SamplingParams params = SamplingParams.builder().temperature(0).repetitionPenalty(2f)
                .frequencyPenalty(0.5f).presencePenalty(0.3f).build();
        float[] out = new Sampler(params).processedLogits(logits, 0, logits.length, history);
        // 0: prompt+output once: 2 / 2 - 0.5 - 0.3; 1: prompt only: -2 * 2; 2: output twice: 1 / 2 - 2 * 0.5 - 0.3;
        // 3: output once: 0.5 / 2 - 0.5 - 0.3; 4, 5: unseen. Id 99 lies past the vocabulary and is ignored.
        assertThat(out).containsExactly(new float[] {0.2f, -4f, -0.8f, -0.55f, -1f, 3f}, within(1e-6f));
        assertThat(new Sampler(params).sample(logits, 0, logits.length, history)).isEqualTo(5);
    }

    @Test
    void negativePenaltiesEncourageAndTemperatureScalesAfterPenalties() {
        float[] logits = {1f, 1f};
        TokenHistory history = new TokenHistory();
        history.addOutput(1);
        history.addOutput(1);
        SamplingParams params = SamplingParams.builder().temperature(0.5f).frequencyPenalty(-1f)
                .presencePenalty(-0.5f).build();
        float[] out = new Sampler(params).processedLogits(logits, 0, 2, history);
        assertThat(out).containsExactly(new float[] {2f, (1f + 2f + 0.5f) / 0.5f}, within(1e-6f));
    }

    @Test
    void callerLogitsAreNotModifiedAndTheRowOffsetIsUsed() {
        float[] batch = {9, 0, 0, 0, /* row 1 */ 0, 1, 5, 2, /* row 2 */ 0, 0, 0, 9};
        float[] copy = batch.clone();
        TokenHistory history = TokenHistory.ofPrompt(new int[] {2});
        SamplingParams params = SamplingParams.builder().temperature(0.9f).topK(3).topP(0.9f).minP(0.01f)
                .repetitionPenalty(1.3f).frequencyPenalty(0.4f).seed(1L).build();
        Sampler s = new Sampler(params);
        for (int i = 0; i < 100; i++) {
            assertThat(s.sample(batch, 4, 4, history)).isBetween(1, 3);
        }
        assertThat(new Sampler(SamplingParams.greedy(1)).sample(batch, 4, 4, new TokenHistory())).isEqualTo(2);
        assertThat(batch).isEqualTo(copy);
    }

    @Test
    void nanCountsAsMinusInfinity() {
        float[] logits = {Float.NaN, 1f, 0f};
        assertThat(sample(new Sampler(SamplingParams.greedy(1)), logits)).isEqualTo(1);
        assertThat(drawn(SamplingParams.defaults(), logits, 2000)).containsExactly(1, 2);
    }

    @Test
    void rejectsRowsOutOfBoundsOrWithoutFiniteLogits() {
        Sampler s = new Sampler(SamplingParams.defaults());
        assertThatThrownBy(() -> s.sample(new float[4], 2, 3, NO_HISTORY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("array of length 4");
        assertThatThrownBy(() -> s.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NaN}, 0, 2, NO_HISTORY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no finite value");
    }

    @Test
    void logprobsAreLogSoftmaxOfTheRawLogits() {
        float[] logits = {1f, 2f, 3f, 3f, 0f};
        double logZ = Math.log(IntStream.range(0, 5).mapToDouble(i -> Math.exp(logits[i])).sum());
        SamplingParams params = SamplingParams.builder().logprobs(3).repetitionPenalty(1.5f).seed(9L).build();
        TokenHistory history = TokenHistory.ofPrompt(new int[] {2});
        SampleResult r = new Sampler(params).sampleWithLogprobs(logits, 0, 5, history);
        assertThat(r.logprob()).isCloseTo((float) (logits[r.tokenId()] - logZ), within(1e-6f));
        assertThat(r.top()).extracting(SampleResult.TokenLogprob::tokenId).containsExactly(2, 3, 1);
        assertThat(r.top().get(0).logprob()).isCloseTo((float) (3 - logZ), within(1e-6f));
        assertThat(r.top().get(2).logprob()).isCloseTo((float) (2 - logZ), within(1e-6f));
        assertThat(new Sampler(params.toBuilder().logprobs(3).seed(9L).build()).sample(logits, 0, 5, history))
                .as("the same draw with or without logprobs").isEqualTo(r.tokenId());

        SampleResult chosenOnly = new Sampler(SamplingParams.builder().temperature(0).logprobs(0).build())
                .sampleWithLogprobs(logits, 0, 5, NO_HISTORY);
        assertThat(chosenOnly.tokenId()).isEqualTo(2);
        assertThat(chosenOnly.top()).isEmpty();
    }

    @Test
    void warmSamplerAllocatesNothingOnALargeVocabulary() {
        Assumptions.assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean
                && bean.isThreadAllocatedMemorySupported(), "per-thread allocation counters unavailable");
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random random = new Random(4);
        float[] logits = new float[152_000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (random.nextGaussian() * 2);
        }
        TokenHistory history = new TokenHistory();
        for (int i = 0; i < 200; i++) {
            history.addOutput(random.nextInt(logits.length));
        }
        SamplingParams[] cases = {
            SamplingParams.builder().temperature(0.8f).topK(50).topP(0.9f).minP(0.01f)
                    .repetitionPenalty(1.1f).frequencyPenalty(0.2f).seed(1L).build(),
            SamplingParams.builder().temperature(1f).topP(0.95f).seed(2L).build(),
            SamplingParams.greedy(1),
        };
        for (SamplingParams params : cases) {
            Sampler s = new Sampler(params);
            for (int i = 0; i < 5; i++) {
                s.sample(logits, 0, logits.length, history);
            }
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20; i++) {
                s.sample(logits, 0, logits.length, history);
            }
            long allocated = bean.getCurrentThreadAllocatedBytes() - before;
            // NOTE: a little slack for the counter itself; one scratch copy of the row would be 600 kB.
            assertThat(allocated).as(params.toString()).isLessThan(4096);
        }
    }

    private static long[] maskOf(int vocabSize, int... ids) {
        long[] mask = new long[(vocabSize + 63) / 64];
        for (int id : ids) {
            mask[id >>> 6] |= 1L << id;
        }
        return mask;
    }

    @Test
    void greedyPicksTheBestAllowedToken() {
        float[] logits = new float[130];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (i * 37 % 101) / 10f;
        }
        int[] allowed = {3, 64, 99, 129};
        int best = 3;
        for (int id : allowed) {
            best = logits[id] > logits[best] ? id : best;
        }
        Sampler s = new Sampler(SamplingParams.greedy(1));
        assertThat(referenceArgmax(logits)).isNotIn(3, 64, 99, 129);
        assertThat(s.sample(logits, 0, logits.length, NO_HISTORY, maskOf(logits.length, allowed))).isEqualTo(best);
    }

    @Test
    void samplingDrawsOnlyAllowedTokensInProportion() {
        float[] logits = logitsOf(0.4, 0.1, 0.3, 0.2);
        long[] mask = maskOf(4, 1, 3);
        Sampler s = new Sampler(SamplingParams.builder().seed(5L).topP(0.9f).build());
        int[] counts = new int[4];
        int draws = 20000;
        for (int i = 0; i < draws; i++) {
            counts[s.sample(logits, 0, 4, NO_HISTORY, mask)]++;
        }
        assertThat(counts[0] + counts[2]).isZero();
        // renormalised over {1, 3}: 1/3 and 2/3; top-p 0.9 keeps both (token 3 alone holds only 2/3)
        assertThat(counts[1] / (double) draws).isCloseTo(1 / 3.0, within(0.02));
    }

    @Test
    void maskedLogprobsStayThoseOfTheRawDistribution() {
        float[] logits = {1f, 2f, 3f};
        double logZ = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
        SampleResult r = new Sampler(SamplingParams.builder().temperature(0).logprobs(1).build())
                .sampleWithLogprobs(logits, 0, 3, NO_HISTORY, maskOf(3, 0));
        assertThat(r.tokenId()).isZero();
        assertThat(r.logprob()).isCloseTo((float) (1 - logZ), within(1e-6f));
        assertThat(r.top()).extracting(SampleResult.TokenLogprob::tokenId).containsExactly(2);
    }

    @Test
    void aMaskWithoutFiniteLogitsIsRejected() {
        float[] logits = {1f, Float.NEGATIVE_INFINITY, 2f};
        assertThatThrownBy(() -> new Sampler(SamplingParams.defaults()).sample(logits, 0, 3, NO_HISTORY, maskOf(3, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("among the allowed tokens");
    }
}
