package dev.bulkhead.engine.internal.runner;

/**
 * A device sampler that can launch a step without waiting for it, so that the engine schedules and prepares the
 * next step, and does this one's bookkeeping, while the device runs it (vLLM v1's asynchronous scheduling). A
 * decode token scheduled before its value is known takes, on the device, the id the step launched just before
 * sampled for it: the host never has to see it first.
 *
 * <p>Launched steps run in launch order and are awaited in that order; at most two are pending at once.
 */
public interface PipelinedSampler extends DeviceSampler {

    /** The most logit rows one launched step may have. */
    int maxLaunchRows();

    /**
     * Queues one step, its forward pass and the sampling of every logit row on the device, and returns without
     * waiting. Every row of {@code rows} must be a device row.
     *
     * @param previousRows per token of {@code batch} (or null for none): -1 when its id is in
     *                     {@link BatchInput#tokenIds()}; otherwise the logit row of the step launched just before this
     *                     one whose sampled id becomes this token's id
     * @throws IllegalStateException when two launched steps are already pending
     */
    void launch(BatchInput batch, SamplingRows rows, int[] previousRows);

    /**
     * Waits for the oldest launched step and returns its ids by logit row (-1 where a row had no finite logit).
     * The array is the runner's own, may be longer than the step, and is overwritten by the next call.
     *
     * @throws IllegalStateException when no launched step is pending
     */
    int[] awaitLaunched();

    /** Launched steps not yet awaited. */
    int launchedPending();

    /** Launches made while an earlier launched step had not been awaited yet: how often the host ran ahead. */
    long overlappedLaunches();
}
