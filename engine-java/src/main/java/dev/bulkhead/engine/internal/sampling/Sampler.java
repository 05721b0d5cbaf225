package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.engine.api.SamplingParams;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Picks the next token of one request from one row of logits. Applies, in vLLM's order: penalties
 * (repetition, frequency, presence) → temperature → top-k → top-p → min-p → draw. Greedy requests
 * ({@link SamplingParams#isGreedy()}) take the argmax of the penalised logits, lowest id on ties, and never
 * touch the random generator.
 *
 * <p>Each sampler owns a random generator seeded from {@link SamplingParams#seed()} (SplittableRandom, whose
 * sequence for a given seed is fixed by its specification), so a seeded request draws the same tokens from
 * the same logits on every run. Each non-greedy draw consumes exactly one {@code nextDouble()}.
 *
 * <p>The caller's logits are never modified: the sampler works on its own scratch copy, sized on the first
 * call and reused afterwards, so a call allocates nothing once warm. Top-k selects with a heap
 * (O(V log k)); top-p buckets the weights in O(V) and orders only the bucket where the nucleus ends. Not
 * thread safe: one per request, used by the engine thread.
 */
public final class Sampler {

    // NOTE: top-p sums the weights into buckets by their float exponent and top mantissa bits (1.0f falls in
    // bucket 2032), keeps whole buckets above the one where the mass crosses top-p and orders only that one.
    private static final int BUCKETS = (Float.floatToRawIntBits(1f) >>> 19) + 1;

    private final SamplingParams params;
    private final RandomGenerator random;
    private float[] work = new float[0];       // (vocabSize) penalised logits, then unnormalised weights
    private long[] candidates = new long[0];   // (grows to the top-p candidate count) packed descending keys
    private float[] topKHeap = new float[0];   // (topK) min-heap for the k-th largest logit
    private double[] bucketMass;               // (BUCKETS) top-p mass per weight bucket, created on first use
    private Logprobs logprobs;                 // created on the first request for log-probabilities

    /** A sampler for one request. */
    public Sampler(SamplingParams params) {
        this.params = Objects.requireNonNull(params, "params");
        Long seed = params.seed();
        this.random = seed == null ? new SplittableRandom() : new SplittableRandom(seed);
    }

    /** The parameters this sampler applies. */
    public SamplingParams params() {
        return params;
    }

    /**
     * Samples a token id in {@code [0, vocabSize)} from {@code logits[offset, offset + vocabSize)}.
     * {@code history} holds the request's prompt and output tokens so far (for the penalties); the caller
     * adds the returned token to it. NaN logits count as -infinity.
     *
     * @throws IllegalArgumentException when the row is out of bounds or has no finite logit
     */
    public int sample(float[] logits, int offset, int vocabSize, TokenHistory history) {
        return sample(logits, offset, vocabSize, history, null);
    }

    /**
     * Like {@link #sample(float[], int, int, TokenHistory)}, choosing only among the ids set in {@code allowed}
     * (bit {@code id % 64} of word {@code id / 64}; null allows all): the others count as -infinity before
     * temperature, top-k, top-p and min-p, so truncation and greedy work over the allowed tokens alone.
     *
     * @throws IllegalArgumentException when no allowed token has a finite logit
     */
    public int sample(float[] logits, int offset, int vocabSize, TokenHistory history, long[] allowed) {
        prepare(logits, offset, vocabSize, history, allowed);
        if (params.isGreedy()) {
            return argmax(work, vocabSize);
        }
        double mass = selectWeights(vocabSize);
        return draw(vocabSize, mass);
    }

    /**
     * Like {@link #sample} and also returns the log-probabilities asked for by {@link SamplingParams#logprobs()}
     * (0 alternatives when it is off). Costs one more pass over the row; {@link #sample} pays nothing for it.
     */
    public SampleResult sampleWithLogprobs(float[] logits, int offset, int vocabSize, TokenHistory history) {
        return sampleWithLogprobs(logits, offset, vocabSize, history, null);
    }

    /**
     * Like {@link #sample(float[], int, int, TokenHistory, long[])} with log-probabilities. They are those of
     * the raw, unmasked distribution (vLLM's default {@code raw_logprobs}): alternatives may include tokens
     * the mask ruled out, and the chosen token's value is what the model itself gave it.
     */
    public SampleResult sampleWithLogprobs(float[] logits, int offset, int vocabSize, TokenHistory history,
                                           long[] allowed) {
        int token = sample(logits, offset, vocabSize, history, allowed);
        if (logprobs == null) {
            logprobs = new Logprobs();
        }
        return logprobs.of(logits, offset, vocabSize, token, Math.max(params.logprobs(), 0));
    }

    /**
     * The logits as the draw sees them, for tests: penalised; then, unless greedy, divided by the temperature
     * with every token that top-k, top-p or min-p removed set to -infinity (so is a token whose probability
     * underflows to 0). Does not touch the random generator.
     */
    float[] processedLogits(float[] logits, int offset, int vocabSize, TokenHistory history) {
        prepare(logits, offset, vocabSize, history, null);
        float[] penalised = Arrays.copyOf(work, vocabSize);
        if (params.isGreedy()) {
            return penalised;
        }
        selectWeights(vocabSize);
        float[] out = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            out[i] = work[i] > 0 ? penalised[i] / params.temperature() : Float.NEGATIVE_INFINITY;
        }
        return out;
    }

    private void prepare(float[] logits, int offset, int vocabSize, TokenHistory history, long[] allowed) {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(history, "history");
        if (vocabSize < 1 || offset < 0 || offset > logits.length - vocabSize) {
            throw new IllegalArgumentException("logits row [" + offset + ", " + offset + " + " + vocabSize
                    + ") must lie within an array of length " + logits.length + " and hold at least one token");
        }
        if (work.length < vocabSize) {
            work = new float[vocabSize];
        }
        boolean finite = false;
        for (int i = 0; i < vocabSize; i++) {
            float v = logits[offset + i];
            // NOTE: NaN would poison every comparison and +inf every softmax; clamp both to orderable values.
            if (v != v) {
                v = Float.NEGATIVE_INFINITY;
            } else if (v == Float.POSITIVE_INFINITY) {
                v = Float.MAX_VALUE;
            }
            if (allowed != null && ((i >>> 6) >= allowed.length || (allowed[i >>> 6] >>> i & 1) == 0)) {
                v = Float.NEGATIVE_INFINITY;
            }
            finite |= v != Float.NEGATIVE_INFINITY;
            work[i] = v;
        }
        if (!finite) {
            throw new IllegalArgumentException("logits row at offset " + offset + " has no finite value"
                    + (allowed == null ? "" : " among the allowed tokens"));
        }
        Penalties.apply(work, vocabSize, history, params);
    }

    /** Lowest id among the largest values. */
    private static int argmax(float[] values, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Replaces the penalised logits in {@code work} by unnormalised probabilities, {@code exp((l - max) / T)},
     * 0 for every token top-k, top-p or min-p removed; returns their sum.
     */
    private double selectWeights(int vocabSize) {
        float max = work[argmax(work, vocabSize)];
        float kth = Float.NEGATIVE_INFINITY;
        int topK = params.topK();
        if (topK > 0 && topK < vocabSize) {
            if (topKHeap.length < topK) {
                topKHeap = new float[topK];
            }
            kth = Heaps.kthLargest(work, vocabSize, topK, topKHeap);
        }
        double invTemperature = 1.0 / params.temperature();
        double mass = 0;
        for (int i = 0; i < vocabSize; i++) {
            float l = work[i];
            float w = l >= kth ? (float) Math.exp(((double) l - max) * invTemperature) : 0f;
            work[i] = w;
            mass += w;
        }
        if (params.topP() < 1f) {
            mass = keepNucleus(vocabSize, mass * params.topP());
        }
        float minP = params.minP();
        if (minP > 0f) {
            // NOTE: the top token's weight is exactly exp(0) = 1, so minP * p_max is minP itself.
            mass = 0;
            for (int i = 0; i < vocabSize; i++) {
                if (work[i] < minP) {
                    work[i] = 0f;
                }
                mass += work[i];
            }
        }
        return mass;
    }

    /**
     * Keeps the shortest prefix of tokens by descending weight whose mass reaches {@code target} (a token is
     * kept while the mass before it is below the target, as in vLLM and transformers); zeroes the rest and
     * returns the mass kept.
     */
    private double keepNucleus(int vocabSize, double target) {
        if (bucketMass == null) {
            bucketMass = new double[BUCKETS];
        }
        Arrays.fill(bucketMass, 0);
        for (int i = 0; i < vocabSize; i++) {
            float w = work[i];
            if (w > 0f) {
                bucketMass[bucket(w)] += w;
            }
        }
        // Whole buckets above the boundary are kept without sorting them.
        int boundary = BUCKETS - 1;
        double kept = 0;
        while (boundary > 0 && kept + bucketMass[boundary] < target) {
            kept += bucketMass[boundary--];
        }
        // Within the boundary bucket (and, should rounding leave the target unmet, the ones below it) tokens
        // come out of a heap in order until the target is met.
        long last = Long.MIN_VALUE;
        for (int b = boundary; b >= 0 && kept < target; b--) {
            boundary = b;
            int n = 0;
            for (int i = 0; i < vocabSize; i++) {
                float w = work[i];
                if (w > 0f && bucket(w) == b) {
                    if (n == candidates.length) {
                        candidates = Arrays.copyOf(candidates, Math.min(vocabSize, Math.max(1024, 2 * n)));
                    }
                    candidates[n++] = Heaps.descendingKey(w, i);
                }
            }
            Heaps.heapifyMin(candidates, n);
            while (n > 0 && kept < target) {
                last = Heaps.popMin(candidates, n--);
                kept += Heaps.valueOf(last);
            }
        }
        for (int i = 0; i < vocabSize; i++) {
            float w = work[i];
            if (w > 0f) {
                int b = bucket(w);
                if (b < boundary || (b == boundary && Heaps.descendingKey(w, i) > last)) {
                    work[i] = 0f;
                }
            }
        }
        return kept;
    }

    /** Bucket of a weight in (0, 1]: its exponent and top 4 mantissa bits, so buckets ascend with weights. */
    private static int bucket(float w) {
        return Float.floatToRawIntBits(w) >>> 19;
    }

    /** Inverse-CDF draw over the weights in id order; one {@code nextDouble()} per call. */
    private int draw(int vocabSize, double mass) {
        double u = random.nextDouble() * mass;
        double acc = 0;
        int last = -1;
        for (int i = 0; i < vocabSize; i++) {
            float w = work[i];
            if (w > 0f) {
                acc += w;
                last = i;
                if (acc > u) {
                    return i;
                }
            }
        }
        // NOTE: reached only when rounding leaves u at the very top of the mass; the last kept token owns it.
        return last;
    }
}
