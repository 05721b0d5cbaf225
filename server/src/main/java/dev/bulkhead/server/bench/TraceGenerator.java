package dev.bulkhead.server.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded synthetic serving trace: Poisson arrivals at {@code requestRate} requests per second (exponential
 * inter-arrival gaps, as vLLM's {@code benchmark_serving --request-rate}) and ShareGPT-like log-normal prompt
 * and output lengths, each request clipped so that prompt + output fits {@code maxModelLen}.
 *
 * <p>Arrivals, prompt lengths and output lengths come from three independent streams of the seed, so the
 * same seed at another rate gives the same requests with the same arrival pattern stretched in time: runs at
 * different rates differ only in load.
 *
 * @param requestRate requests per second, > 0; {@code Double.POSITIVE_INFINITY} sends everything at time 0
 * @param numRequests requests in the trace, >= 1
 * @param prompt      prompt length distribution
 * @param output      output length distribution
 * @param maxModelLen longest prompt + output the engine serves, >= 2
 */
public record TraceGenerator(double requestRate, int numRequests, LengthDistribution prompt, LengthDistribution output,
                             int maxModelLen) {

    public TraceGenerator {
        if (!(requestRate > 0)) {
            throw new IllegalArgumentException("requestRate must be > 0 (or infinite), got " + requestRate);
        }
        if (numRequests < 1) {
            throw new IllegalArgumentException("numRequests must be >= 1, got " + numRequests);
        }
        if (prompt == null || output == null) {
            throw new IllegalArgumentException("prompt and output length distributions must not be null");
        }
        if (maxModelLen < 2) {
            throw new IllegalArgumentException("maxModelLen must be >= 2, got " + maxModelLen);
        }
        if (prompt.min() >= maxModelLen) {
            throw new IllegalArgumentException("prompt.min " + prompt.min() + " leaves no room for output in maxModelLen "
                    + maxModelLen);
        }
    }

    /** This generator with {@code n} requests. */
    public TraceGenerator withCount(int n) {
        return new TraceGenerator(requestRate, n, prompt, output, maxModelLen);
    }

    /** The trace for {@code seed}, in arrival order; equal seeds and parameters give equal traces. */
    public List<TraceRequest> generate(long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom arrivals = root.split();
        SplittableRandom prompts = root.split();
        SplittableRandom outputs = root.split();
        List<TraceRequest> trace = new ArrayList<>(numRequests);
        double clock = 0;
        for (int i = 0; i < numRequests; i++) {
            int p = Math.min(prompt.sample(prompts), maxModelLen - 1);
            int o = Math.min(output.sample(outputs), maxModelLen - p);
            trace.add(new TraceRequest(clock, p, o));
            // NOTE: as in vLLM the first request goes at time 0 and each later one after an exponential gap;
            // the gap is drawn at unit rate and scaled, so the pattern is the same at every rate.
            double unitGap = -Math.log(1 - arrivals.nextDouble());
            clock += Double.isInfinite(requestRate) ? 0 : unitGap * 1000 / requestRate;
        }
        return List.copyOf(trace);
    }
}
