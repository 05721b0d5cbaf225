package dev.bulkhead.engine;

import dev.bulkhead.engine.internal.runner.SamplingRows;
import dev.bulkhead.scheduler.ScheduledChunk;
import dev.bulkhead.scheduler.SchedulerOutput;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A step's logit rows on the engine side: which request owns each, how a device sampler is to sample them
 * ({@link SamplingRows}), and the tokens that come back, by request, for the requests still active (a request
 * finished or failed since its step was scheduled or launched is skipped; a row that cannot be sampled fails its own
 * request through {@code failRequest}). Used by the engine loop thread only; {@code active} is the loop's own map.
 */
final class StepRows {

    private final Map<String, ActiveRequest> active;
    private final EngineMetrics metrics;
    private final int vocabSize;
    private final BiConsumer<String, RuntimeException> failRequest;
    private final SamplingRows samplingRows = new SamplingRows();

    StepRows(Map<String, ActiveRequest> active, EngineMetrics metrics, int vocabSize,
             BiConsumer<String, RuntimeException> failRequest) {
        this.active = active;
        this.metrics = metrics;
        this.vocabSize = vocabSize;
        this.failRequest = failRequest;
    }

    /** The tokens of a step whose every row was sampled on the device, by request, for requests still active. */
    Map<String, Integer> collect(SchedulerOutput out, ActiveRequest[] owners, int[] ids) {
        Map<String, Integer> sampled = new HashMap<>();
        int row = 0;
        for (int i = 0; i < owners.length; i++) {
            if (!out.chunks().get(i).sample()) {
                continue;
            }
            int token = ids[row++];
            ActiveRequest r = owners[i];
            if (r == null || active.get(r.id) != r) {
                continue; // NOTE: finished since it was launched: the token it sampled ahead is discarded
            }
            metrics.sampled(true);
            if (token < 0) {
                failRequest.accept(r.id, new IllegalArgumentException("logits row " + (row - 1)
                        + " has no finite value"));
            } else {
                sampled.put(r.id, token);
            }
        }
        return sampled;
    }

    /** The tokens of a step with device ids ({@code deviceIds}, or null) and host rows' {@code logits}. */
    Map<String, Integer> sampleRows(SchedulerOutput out, ActiveRequest[] owners, int[] deviceIds, float[] logits) {
        Map<String, Integer> sampled = new HashMap<>();
        int row = 0;
        int hostRow = 0;
        for (int i = 0; i < owners.length; i++) {
            if (!out.chunks().get(i).sample()) {
                continue;
            }
            boolean onDevice = deviceIds != null && samplingRows.onDevice(row);
            int hostOffset = onDevice ? -1 : hostRow++ * vocabSize;
            int deviceRow = row++;
            ActiveRequest r = owners[i];
            if (r == null || active.get(r.id) != r) {
                continue;
            }
            try {
                metrics.sampled(onDevice);
                int token;
                if (onDevice) {
                    token = deviceIds[deviceRow];
                    if (token < 0) {
                        throw new IllegalArgumentException("logits row " + deviceRow + " has no finite value");
                    }
                } else {
                    token = r.sample(logits, hostOffset, vocabSize);
                }
                sampled.put(r.id, token);
            } catch (RuntimeException e) {
                // NOTE: a row that cannot be sampled (no finite logit, no token its JSON constraint
                // allows) is that request's problem, not its batch-mates'.
                failRequest.accept(r.id, e);
            }
        }
        return sampled;
    }

    /** The active request of each chunk of {@code out}, or null where there is none any more. */
    ActiveRequest[] owners(SchedulerOutput out) {
        ActiveRequest[] owners = new ActiveRequest[out.chunks().size()];
        for (int i = 0; i < owners.length; i++) {
            owners[i] = active.get(out.chunks().get(i).requestId());
        }
        return owners;
    }

    /** Tells the device sampler, row by row, which logit rows it samples and how. */
    SamplingRows describeRows(SchedulerOutput out, int penaltyCapacity) {
        samplingRows.start(out.chunks().size());
        int room = penaltyCapacity;
        for (ScheduledChunk c : out.chunks()) {
            if (!c.sample()) {
                continue;
            }
            ActiveRequest r = active.get(c.requestId());
            if (r == null) {
                // NOTE: finished since it was scheduled ahead: a plain greedy row whose id nobody reads.
                samplingRows.device(0f, 0, 1f, 0f, 1f, 0f, 0f, 0L, 0L);
                samplingRows.endRow();
            } else {
                room -= r.describeRow(samplingRows, room);
            }
        }
        return samplingRows;
    }

    /** The rows the last {@link #describeRows} described (reused by the next). */
    SamplingRows described() {
        return samplingRows;
    }

    /** Whether every row of the last {@link #describeRows} is sampled on the device. */
    boolean allOnDevice() {
        for (int i = 0; i < samplingRows.rows(); i++) {
            if (!samplingRows.onDevice(i)) {
                return false;
            }
        }
        return true;
    }
}
