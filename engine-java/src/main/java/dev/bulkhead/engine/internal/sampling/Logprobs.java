package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.engine.api.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Log-softmax of one row of raw logits, for the chosen token and the top n, with a reusable heap. */
final class Logprobs {

    private final long[] heap = new long[SamplingParams.MAX_LOGPROBS];

    /**
     * The log-probability of {@code chosen} and the {@code topN} most likely tokens of
     * {@code logits[offset, offset + vocabSize)}; O(vocabSize log topN).
     */
    SampleResult of(float[] logits, int offset, int vocabSize, int chosen, int topN) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        int size = 0;
        for (int i = 0; i < vocabSize; i++) {
            float v = logits[offset + i];
            sum += Math.exp((double) v - max);
            if (topN > 0) {
                size = Heaps.offerSmallest(heap, size, topN, Heaps.descendingKey(v, i));
            }
        }
        double logZ = max + Math.log(sum);
        // NOTE: at most MAX_LOGPROBS keys: the JDK sorts so few in place without allocating.
        Arrays.sort(heap, 0, size);
        List<SampleResult.TokenLogprob> top = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            top.add(new SampleResult.TokenLogprob(Heaps.idOf(heap[i]), (float) (Heaps.valueOf(heap[i]) - logZ)));
        }
        return new SampleResult(chosen, (float) (logits[offset + chosen] - logZ), top);
    }
}
