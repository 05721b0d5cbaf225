package dev.bulkhead.bench.serving;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.server.bench.TraceRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Replays a trace against an engine in real time: each request is streamed ({@link LlmEngine#stream}) at
 * its arrival offset with a random prompt of its length and greedy sampling that ignores EOS, so it produces
 * exactly its output length. The driver only submits (an engine call returns at once); token arrival times
 * are stamped by one {@link RequestRecorder} per request on the engine's delivery threads.
 */
public final class TraceReplayer {

    private final LlmEngine engine;
    private final Duration timeout;

    /**
     * @param engine  the engine under test (not closed here)
     * @param timeout how long to wait, after the last submission, for every request to finish
     */
    public TraceReplayer(LlmEngine engine, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        this.engine = engine;
        this.timeout = timeout;
    }

    /** The result of one replay: when it started and what each request saw, in trace order. */
    public record Result(long startNanos, List<RequestTiming> requests) {

        public Result {
            requests = List.copyOf(requests);
        }

        public ServingSummary summary() {
            return ServingSummary.of(startNanos, requests);
        }
    }

    /**
     * Sends every request of {@code trace} (in arrival order) on schedule and waits for all of them.
     *
     * @param prompts  where prompt ids come from; give each replay on one engine its own seed, or the prefix
     *                 cache serves a repeated prompt and its TTFT measures nothing
     * @param idPrefix prefix of the request ids, unique per replay on one engine
     * @throws IllegalStateException when some request is still running after the timeout
     */
    public Result replay(List<TraceRequest> trace, RandomPrompts prompts, String idPrefix) throws InterruptedException {
        long start = System.nanoTime();
        List<CompletableFuture<RequestTiming>> timings = new ArrayList<>(trace.size());
        for (int i = 0; i < trace.size(); i++) {
            TraceRequest r = trace.get(i);
            long due = start + Math.round(r.arrivalOffsetMillis() * 1e6);
            sleepUntil(due);
            timings.add(submit(idPrefix + i, prompts.prompt(i, r.promptLen()), r.outputLen(), due));
        }
        try {
            CompletableFuture.allOf(timings.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            long unfinished = timings.stream().filter(f -> !f.isDone()).count();
            throw new IllegalStateException(unfinished + " of " + trace.size() + " requests still running "
                    + timeout.toSeconds() + " s after the last submission; raise the timeout or lower the rate", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a recorder failed: " + e.getCause(), e.getCause());
        }
        return new Result(start, timings.stream().map(CompletableFuture::join).toList());
    }

    /**
     * Streams one request now and returns its recording. A refused request is recorded as failed rather than
     * thrown, so one bad request does not end the run.
     */
    public CompletableFuture<RequestTiming> submit(String id, int[] prompt, int outputLen, long scheduledNanos) {
        SamplingParams sampling = SamplingParams.greedy(outputLen).toBuilder().ignoreEos(true).build();
        GenerateRequest request = GenerateRequest.ofTokens(prompt, sampling).withRequestId(id);
        long submit = System.nanoTime();
        RequestRecorder recorder = new RequestRecorder(id, prompt.length, outputLen, scheduledNanos, submit);
        try {
            engine.stream(request).subscribe(recorder);
        } catch (RuntimeException e) {
            recorder.refused(e);
        }
        return recorder.timing();
    }

    private static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw new InterruptedException("trace replay interrupted");
            }
        }
    }
}
