package dev.bulkhead.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The timing loop every Bulkhead decode benchmark shares, whatever runs the step: greedy from one start token,
 * {@link DecodeSpec#warmupRuns()} untimed runs, then {@link DecodeSpec#runs()} timed ones, each from position 0,
 * the first step of a run untimed (see {@link DecodeSpec}).
 */
public final class DecodeLoop {

    /** One greedy decode step of a single sequence. */
    @FunctionalInterface
    public interface Step {
        /** Feeds {@code token} at {@code position} and returns the next token. */
        int next(int token, int position);
    }

    private DecodeLoop() {
    }

    /** Runs {@code spec} with {@code step} and returns its timings under {@code engine}'s name. */
    public static DecodeResult run(DecodeSpec spec, String engine, String note, int firstToken, Step step) {
        for (int i = 0; i < spec.warmupRuns(); i++) {
            seconds(step, firstToken, spec.positions());
        }
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i < spec.runs(); i++) {
            seconds.add(seconds(step, firstToken, spec.positions()));
        }
        return new DecodeResult(engine, spec.dtype(), spec.threads(), spec.tokens(), seconds, note);
    }

    /** Seconds for steps 1..positions-1 (step 0 is untimed). EOS does not stop the run: every run is equal. */
    static double seconds(Step step, int firstToken, int positions) {
        int token = firstToken;
        long start = 0;
        for (int pos = 0; pos < positions; pos++) {
            if (pos == 1) {
                start = System.nanoTime();
            }
            token = step.next(token, pos);
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
