package dev.bulkhead.engine;

import dev.bulkhead.engine.internal.runner.BackendLostException;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.PipelinedSampler;
import dev.bulkhead.engine.internal.runner.SamplingRows;
import java.util.ArrayDeque;
import java.util.function.IntPredicate;

/**
 * A stand-in for a device that launches steps without waiting, over the CPU runner: a launched step runs only when
 * it is awaited, in launch order (the furthest a GPU may lag, as the CUDA emulator's streams do), its placeholder
 * tokens fed from the ids of the launched step before it, as {@code bk_feed_sampled_ids} does. Device rows are
 * sampled greedily, or with a Gumbel-max draw keyed by the row's seed and step (a device generator of its own), so a
 * seeded request's tokens depend on its seed and step only. Rows whose token is {@code poison} get -1.
 */
final class LazyDevice extends ForwardingModelRunner implements PipelinedSampler {

    /** A launched step with a copy of what the engine described (the engine reuses its objects). */
    private record Launched(BatchInput batch, int[] previousRows, float[] temperature, long[] seed, long[] step) {
    }

    private final int maxLaunchRows;
    private final ArrayDeque<Launched> queue = new ArrayDeque<>();
    private final int poison;
    private final IntPredicate loseOnAwait;  // by await number: throw BackendLostException
    private final int delayMillis;
    private int[] lastIds;                   // ids of the last launched step that ran, by logit row
    private int[] returned = new int[0];
    private long overlapped;
    private long launches;
    private int awaits;
    volatile long maxPending;

    LazyDevice(ModelRunner cpu, int maxLaunchRows, int poison, IntPredicate loseOnAwait, int delayMillis) {
        super(cpu);
        this.maxLaunchRows = maxLaunchRows;
        this.poison = poison;
        this.loseOnAwait = loseOnAwait;
        this.delayMillis = delayMillis;
    }

    @Override
    public boolean samplesOnDevice() {
        return true;
    }

    @Override
    public int penaltyCapacity() {
        return 1 << 20;
    }

    @Override
    public int maxLaunchRows() {
        return maxLaunchRows;
    }

    @Override
    public void launch(BatchInput batch, SamplingRows rows, int[] previousRows) {
        if (queue.size() == 2) {
            throw new IllegalStateException("two launched steps are pending");
        }
        int n = rows.rows();
        if (n != batch.logitIndices().length || n > maxLaunchRows) {
            throw new IllegalArgumentException("rows " + n + " for " + batch.logitIndices().length + " logit rows");
        }
        float[] temperature = new float[n];
        long[] seed = new long[n];
        long[] step = new long[n];
        for (int i = 0; i < n; i++) {
            if (!rows.onDevice(i)) {
                throw new IllegalArgumentException("row " + i + " is a host row");
            }
            temperature[i] = rows.temperature(i);
            seed[i] = rows.seed(i);
            step[i] = rows.step(i);
        }
        if (!queue.isEmpty()) {
            overlapped++;
        }
        launches++;
        queue.addLast(new Launched(batch, previousRows == null ? null : previousRows.clone(), temperature, seed, step));
        maxPending = Math.max(maxPending, queue.size());
    }

    @Override
    public int[] awaitLaunched() {
        Launched l = queue.pollFirst();
        if (l == null) {
            throw new IllegalStateException("nothing launched");
        }
        if (loseOnAwait.test(awaits++)) {
            throw new BackendLostException("test: the device context is lost",
                    new IllegalStateException("CUDA_ERROR_ILLEGAL_ADDRESS (700)"));
        }
        if (delayMillis > 0) {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int[] tokens = l.batch().tokenIds();
        if (l.previousRows() != null) {
            for (int t = 0; t < tokens.length; t++) {
                if (l.previousRows()[t] >= 0) {
                    if (lastIds == null) {
                        throw new IllegalStateException("a token is fed from a step that was not launched");
                    }
                    tokens[t] = Math.max(0, lastIds[l.previousRows()[t]]);
                }
            }
        }
        BatchInput b = l.batch();
        float[] logits = delegate.forward(new BatchInput(tokens, b.positions(), b.seqStarts(), b.blockTables(),
                b.logitIndices()));
        int vocab = config().vocabSize();
        int n = b.logitIndices().length;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = tokens[b.logitIndices()[i]] == poison ? -1
                    : draw(logits, i * vocab, vocab, l.temperature()[i], l.seed()[i], l.step()[i]);
        }
        lastIds = ids;
        if (returned.length < n) {
            returned = new int[n];
        }
        System.arraycopy(ids, 0, returned, 0, n);
        return returned;
    }

    @Override
    public SampledStep forwardAndSample(BatchInput batch, SamplingRows rows) {
        if (!queue.isEmpty()) {
            throw new IllegalStateException("a synchronous step while launched steps are pending");
        }
        lastIds = null;
        float[] logits = delegate.forward(batch);
        int vocab = config().vocabSize();
        int n = rows.rows();
        int[] ids = new int[n];
        float[] host = new float[n * vocab];
        int hostRows = 0;
        for (int i = 0; i < n; i++) {
            if (rows.onDevice(i)) {
                ids[i] = draw(logits, i * vocab, vocab, rows.temperature(i), rows.seed(i), rows.step(i));
            } else {
                System.arraycopy(logits, i * vocab, host, hostRows++ * vocab, vocab);
            }
        }
        return new SampledStep(ids, host, hostRows);
    }

    @Override
    public int launchedPending() {
        return queue.size();
    }

    @Override
    public long overlappedLaunches() {
        return overlapped;
    }

    long launches() {
        return launches;
    }

    /** Greedy at temperature 0, else the Gumbel-max draw of (seed, step): the same token whatever the row. */
    static int draw(float[] logits, int from, int vocab, float temperature, long seed, long step) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            double score = logits[from + i];
            if (temperature > 0) {
                long h = mix(mix(seed) ^ (step * 0x9E3779B97F4A7C15L) ^ (i * 0xC2B2AE3D27D4EB4FL));
                double u = ((h >>> 11) + 0.5) / (double) (1L << 53);
                score = score / temperature - Math.log(-Math.log(u));
            }
            if (score > bestScore) {
                bestScore = score;
                best = i;
            }
        }
        return best;
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xFF51AFD7ED558CCDL;
        x ^= x >>> 33;
        x *= 0xC4CEB9FE1A85EC53L;
        return x ^ (x >>> 33);
    }
}
