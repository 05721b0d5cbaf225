package dev.bulkhead.engine.internal.runner;

/**
 * A runner that can sample on its device: the logits of the rows marked for it never leave the device, only
 * their ids come back; the other rows' logits come back for the host sampler (guided decoding, logprobs).
 * A device draw depends only on the request's seed and step, never on its row or its batch-mates.
 */
public interface DeviceSampler {

    /**
     * A step's outcome.
     *
     * @param ids        (logit rows) the sampled id of each device row, -1 when its row had no finite logit; host
     *                   rows' entries are meaningless
     * @param hostLogits the host rows' logits, {@code vocabSize} each, in their order among the logit rows
     * @param hostRows   how many host rows there are
     *                   (both arrays are the runner's own, may be longer than the step, and are overwritten by its
     *                   next step)
     */
    record SampledStep(int[] ids, float[] hostLogits, int hostRows) {
    }

    /** Whether this runner was made to sample on its device; when not, the engine calls only {@code forward}. */
    boolean samplesOnDevice();

    /** Runs one step as {@link ModelRunner#forward} does, then samples the device rows of {@code rows}. */
    SampledStep forwardAndSample(BatchInput batch, SamplingRows rows);

    /** The most penalty entries ({@link SamplingRows#penalty}) one step may carry; past it the engine uses the host. */
    int penaltyCapacity();
}
