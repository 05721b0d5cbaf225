package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.SamplingRows;
import dev.bulkhead.engine.internal.sampling.Sampler;
import dev.bulkhead.engine.internal.sampling.TokenHistory;
import dev.bulkhead.ffi.DevicePtr;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code bk_sample_rows} through the runner's upload ({@link SamplingUpload}): greedy rows with penalties pick
 * exactly the host {@link Sampler}'s token; sampled rows follow the distribution that temperature, top-k, top-p
 * and min-p leave (a chi-square test over 2,000 seeded draws, so the outcome is fixed, not flaky); a draw
 * depends on the request's seed and step only, never on its place in the batch.
 */
@Tag("gpu")
class DeviceSamplingGpuTest {

    static GpuHarness gpu;

    @BeforeAll
    static void open() {
        gpu = GpuHarness.open();
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
    }

    /** What the engine's ActiveRequest tells a device sampler about one request's row. */
    private static void describe(SamplingRows rows, SamplingParams p, TokenHistory history, long seed, long step) {
        rows.device(p.isGreedy() ? 0f : p.temperature(), p.topK(), p.topP(), p.minP(), p.repetitionPenalty(),
                p.frequencyPenalty(), p.presencePenalty(), seed, step);
        history.forEachPenalised(p, rows::penalty);
        rows.endRow();
    }

    /** Samples the device rows of {@code rows} from {@code logits} (one row of {@code vocab} each); -2 for host rows. */
    private static int[] sampleOnDevice(float[] logits, int vocab, SamplingRows rows) {
        SamplingUpload upload = new SamplingUpload(gpu.ctx, rows.rows(), 1 << 16);
        DevicePtr lg = gpu.f32(logits);
        int n = upload.pack(rows, 0, rows.rows());
        upload.upload(gpu.ops.stream());
        DevicePtr out = gpu.zeros(4L * Math.max(1, n));
        upload.sample(gpu.ops, out, lg, vocab);
        int[] packed = gpu.readI32(out, n);
        int[] ids = new int[rows.rows()];
        Arrays.fill(ids, -2);
        for (int k = 0; k < n; k++) {
            ids[upload.passRow(k)] = packed[k];
        }
        return ids;
    }

    private static int argmax(float[] v, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[from + i] > v[from + best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void greedyRowsWithPenaltiesPickTheHostSamplersToken() {
        Random r = new Random(11);
        int vocab = 3000, n = 24;
        float[] logits = new float[n * vocab];
        float[] rep = {1f, 1.3f, 0.7f, 1.8f};
        float[] freq = {0f, 0.5f, -0.4f, 1.5f};
        float[] pres = {0f, 0.6f, -1f, 2f};
        SamplingRows rows = new SamplingRows();
        rows.start(n);
        SamplingParams[] params = new SamplingParams[n];
        TokenHistory[] histories = new TokenHistory[n];
        for (int row = 0; row < n; row++) {
            int at = row * vocab;
            for (int i = 0; i < vocab; i++) {
                logits[at + i] = (float) r.nextGaussian() * 2f;
            }
            int[] prompt = new int[42];
            for (int i = 0; i < 40; i++) {
                prompt[i] = r.nextInt(vocab);
            }
            prompt[40] = vocab + 5; // past the vocabulary: both samplers ignore it
            prompt[41] = prompt[3]; // a repeat
            TokenHistory h = TokenHistory.ofPrompt(prompt);
            int[] outputSet = new int[10];
            for (int i = 0; i < outputSet.length; i++) {
                outputSet[i] = i < 3 ? prompt[i] : r.nextInt(vocab); // some output tokens are prompt tokens too
            }
            for (int i = 0; i < 30; i++) {
                h.addOutput(outputSet[r.nextInt(outputSet.length)]);
            }
            // NOTE: history tokens lead, a fresh token close behind: the penalties decide the winner.
            logits[at + prompt[5]] = 6f;
            logits[at + outputSet[0]] = 6.1f;
            logits[at + outputSet[4]] = -6.2f;
            logits[at + (vocab - 1 - row)] = 5.5f;
            SamplingParams.Builder b = SamplingParams.greedy(8).toBuilder().repetitionPenalty(rep[row % 4])
                    .frequencyPenalty(freq[(row / 4) % 4]).presencePenalty(pres[(row / 2) % 4]);
            if (row % 5 == 4) {
                b.temperature(0.7f).topK(1); // greedy too (top-k 1), with a temperature
            }
            params[row] = b.build();
            histories[row] = h;
            describe(rows, params[row], h, row, 0);
        }
        int clamped = 20, allNan = 21, allNegInf = 22;
        logits[clamped * vocab + 77] = Float.POSITIVE_INFINITY;
        logits[clamped * vocab + 78] = Float.NaN;
        Arrays.fill(logits, allNan * vocab, (allNan + 1) * vocab, Float.NaN);
        Arrays.fill(logits, allNegInf * vocab, (allNegInf + 1) * vocab, Float.NEGATIVE_INFINITY);

        int[] device = sampleOnDevice(logits, vocab, rows);

        int decidedByPenalties = 0;
        for (int row = 0; row < n; row++) {
            if (row == allNan || row == allNegInf) {
                assertThat(device[row]).as("row %d has no finite logit", row).isEqualTo(-1);
                continue;
            }
            int host = new Sampler(params[row]).sample(logits, row * vocab, vocab, histories[row]);
            assertThat(device[row]).as("row %d (%s)", row, params[row]).isEqualTo(host);
            if (host != argmax(logits, row * vocab, vocab)) {
                decidedByPenalties++;
            }
        }
        assertThat(device[clamped]).as("+inf is the largest float").isEqualTo(77);
        assertThat(decidedByPenalties).as("rows whose penalties changed the winner").isGreaterThanOrEqualTo(5);
    }

    @Test
    void drawsFollowTheDistributionTruncationLeaves() {
        int vocab = 48;
        float[] row = new float[vocab];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < vocab; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new Random(3)); // rank is not vocabulary order
        for (int i = 0; i < vocab; i++) {
            row[order.get(i)] = 3f - 0.15f * i;
        }
        // NOTE: in the second, each of top-k (16), top-p (13 of them) and min-p (11) removes tokens the one before
        // it kept, so each is tested.
        assertFollows(row, SamplingParams.builder().temperature(1.3f).build(), 31);
        assertFollows(row, SamplingParams.builder().temperature(0.8f).topK(16).topP(0.95f).minP(0.15f).build(), 32);
        assertFollows(row, SamplingParams.builder().temperature(0.5f).topP(0.75f).build(), 33);
    }

    /** 2,000 draws (steps 0..1999 of one seed) from {@code row}: counts against the expected probabilities. */
    private static void assertFollows(float[] row, SamplingParams p, long seed) {
        int vocab = row.length, draws = 2000;
        float[] logits = new float[draws * vocab];
        SamplingRows rows = new SamplingRows();
        rows.start(draws);
        TokenHistory none = new TokenHistory();
        for (int d = 0; d < draws; d++) {
            System.arraycopy(row, 0, logits, d * vocab, vocab);
            describe(rows, p, none, seed, d);
        }
        int[] ids = sampleOnDevice(logits, vocab, rows);
        double[] expected = expectedProbabilities(row, p);
        long[] counts = new long[vocab];
        for (int id : ids) {
            assertThat(id).isBetween(0, vocab - 1);
            counts[id]++;
        }
        // Tokens truncation removed are never drawn; the kept ones pass a chi-square test at p = 1e-4, with bins
        // expecting fewer than 5 draws pooled.
        double chi = 0, pooledExpected = 0, pooledCount = 0;
        int bins = 0;
        for (int i = 0; i < vocab; i++) {
            if (expected[i] == 0) {
                assertThat(counts[i]).as("draws of token %d, which %s removes", i, p).isZero();
                continue;
            }
            double e = expected[i] * draws;
            if (e < 5) {
                pooledExpected += e;
                pooledCount += counts[i];
                continue;
            }
            chi += (counts[i] - e) * (counts[i] - e) / e;
            bins++;
        }
        if (pooledExpected > 0) {
            chi += (pooledCount - pooledExpected) * (pooledCount - pooledExpected) / pooledExpected;
            bins++;
        }
        int df = bins - 1;
        assertThat(df).as("degrees of freedom").isGreaterThanOrEqualTo(4);
        assertThat(chi).as("chi-square of %d draws over %d bins under %s", draws, bins, p)
                .isLessThan(chiSquareQuantile(df, 3.719)); // z of p = 1e-4
    }

    /**
     * The probabilities temperature, top-k (logits at least the k-th largest), top-p (the fewest largest whose
     * mass reaches top_p) and min-p (weight at least min_p of the top one) leave; distinct logits assumed.
     */
    private static double[] expectedProbabilities(float[] row, SamplingParams p) {
        int vocab = row.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        Integer[] byLogit = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            byLogit[i] = i;
        }
        Arrays.sort(byLogit, (a, b) -> Float.compare(row[b], row[a]));
        double[] w = new double[vocab];
        int keep = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        double mass = 0;
        for (int k = 0; k < keep; k++) {
            int i = byLogit[k];
            w[i] = Math.exp((row[i] - max) / p.temperature());
            mass += w[i];
        }
        if (p.topP() < 1f) {
            double kept = 0;
            for (int k = 0; k < keep; k++) {
                int i = byLogit[k];
                if (kept >= p.topP() * mass) {
                    w[i] = 0;
                }
                kept += w[i];
            }
        }
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            if (w[i] < p.minP()) {
                w[i] = 0;
            }
            total += w[i];
        }
        for (int i = 0; i < vocab; i++) {
            w[i] /= total;
        }
        return w;
    }

    /** Wilson–Hilferty: the chi-square quantile of {@code df} degrees of freedom at standard normal {@code z}. */
    private static double chiSquareQuantile(int df, double z) {
        double a = 2.0 / (9 * df);
        return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
    }

    @Test
    void aDrawDependsOnTheSeedAndStepNotOnTheRowsPlace() {
        Random r = new Random(5);
        int vocab = 500, n = 12;
        float[] logits = new float[n * vocab];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        SamplingParams p = SamplingParams.builder().temperature(1f).topP(0.95f).build();
        TokenHistory none = new TokenHistory();
        // Batch A: requests 0..11 in order; batch B: the same requests reversed, with host rows between them.
        SamplingRows a = new SamplingRows();
        a.start(n);
        for (int i = 0; i < n; i++) {
            describe(a, p, none, 1000 + i, 7);
        }
        float[] reversed = new float[2 * n * vocab];
        SamplingRows b = new SamplingRows();
        b.start(2 * n);
        for (int k = 0; k < n; k++) {
            int i = n - 1 - k;
            b.host();
            System.arraycopy(logits, i * vocab, reversed, (2 * k + 1) * vocab, vocab);
            describe(b, p, none, 1000 + i, 7);
        }
        int[] inOrder = sampleOnDevice(logits, vocab, a);
        int[] inReverse = sampleOnDevice(reversed, vocab, b);
        for (int k = 0; k < n; k++) {
            assertThat(inReverse[2 * k]).as("host row").isEqualTo(-2);
            assertThat(inReverse[2 * k + 1]).as("request %d", n - 1 - k).isEqualTo(inOrder[n - 1 - k]);
        }
        // The step is part of the key: the same request draws differently over steps.
        SamplingRows steps = new SamplingRows();
        steps.start(n);
        float[] same = new float[n * vocab];
        for (int s = 0; s < n; s++) {
            System.arraycopy(logits, 0, same, s * vocab, vocab);
            describe(steps, p, none, 1000, s);
        }
        assertThat(Arrays.stream(sampleOnDevice(same, vocab, steps)).distinct().count()).isGreaterThan(4);
    }

    @Test
    void aPenalisedTokenIsDrawnAsPenalised() {
        int vocab = 64, draws = 256;
        float[] row = new float[vocab];
        row[9] = 10f;   // the leader, generated 3 times: frequency 2 takes it to 4
        row[10] = 9.9f;
        row[11] = 9.8f;
        TokenHistory h = TokenHistory.ofPrompt(new int[] {1, 2});
        for (int i = 0; i < 3; i++) {
            h.addOutput(9);
        }
        SamplingParams p = SamplingParams.builder().temperature(1f).topK(2).frequencyPenalty(2f).build();
        float[] logits = new float[draws * vocab];
        SamplingRows rows = new SamplingRows();
        rows.start(draws);
        for (int d = 0; d < draws; d++) {
            System.arraycopy(row, 0, logits, d * vocab, vocab);
            describe(rows, p, h, 77, d);
        }
        int[] ids = sampleOnDevice(logits, vocab, rows);
        assertThat(ids).as("top-2 after the penalty").containsOnly(10, 11).contains(10, 11);
    }
}
