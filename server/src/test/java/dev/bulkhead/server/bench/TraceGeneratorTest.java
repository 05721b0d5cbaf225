package dev.bulkhead.server.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TraceGeneratorTest {

    private static final LengthDistribution PROMPT = new LengthDistribution(64, 1.0, 4, 512);
    private static final LengthDistribution OUTPUT = new LengthDistribution(48, 0.8, 4, 256);

    private static TraceGenerator generator(double rate, int n, int maxModelLen) {
        return new TraceGenerator(rate, n, PROMPT, OUTPUT, maxModelLen);
    }

    @Test
    void sameSeedGivesTheSameTraceAndAnotherSeedAnotherOne() {
        List<TraceRequest> a = generator(2, 200, 1024).generate(7);
        assertThat(generator(2, 200, 1024).generate(7)).isEqualTo(a);
        assertThat(generator(2, 200, 1024).generate(8)).isNotEqualTo(a);
    }

    @Test
    void poissonGapsHaveTheMeanAndSpreadOfAnExponential() {
        double rate = 4;
        List<TraceRequest> trace = generator(rate, 20_000, 1024).generate(11);
        assertThat(trace.getFirst().arrivalOffsetMillis()).isZero();
        double[] gaps = new double[trace.size() - 1];
        for (int i = 1; i < trace.size(); i++) {
            gaps[i - 1] = trace.get(i).arrivalOffsetMillis() - trace.get(i - 1).arrivalOffsetMillis();
            assertThat(gaps[i - 1]).isNotNegative();
        }
        double mean = java.util.Arrays.stream(gaps).average().orElseThrow();
        double var = java.util.Arrays.stream(gaps).map(g -> (g - mean) * (g - mean)).sum() / gaps.length;
        // 1/rate = 250 ms; with 20k samples the standard error of the mean is ~1.8 ms.
        assertThat(mean).isCloseTo(250, within(10.0));
        // An exponential's standard deviation equals its mean (a fixed-interval schedule would give 0).
        assertThat(Math.sqrt(var)).isCloseTo(250, within(15.0));
    }

    @Test
    void otherRatesStretchTheSameArrivalPatternAndKeepTheLengths() {
        List<TraceRequest> slow = generator(0.5, 100, 1024).generate(3);
        List<TraceRequest> fast = generator(2, 100, 1024).generate(3);
        for (int i = 0; i < slow.size(); i++) {
            assertThat(slow.get(i).arrivalOffsetMillis()).isCloseTo(4 * fast.get(i).arrivalOffsetMillis(), within(1e-6));
            assertThat(slow.get(i).promptLen()).isEqualTo(fast.get(i).promptLen());
            assertThat(slow.get(i).outputLen()).isEqualTo(fast.get(i).outputLen());
        }
    }

    @Test
    void infiniteRateSendsEverythingAtOnce() {
        assertThat(generator(Double.POSITIVE_INFINITY, 10, 1024).generate(1))
                .allSatisfy(r -> assertThat(r.arrivalOffsetMillis()).isZero());
    }

    @Test
    void lengthsStayWithinTheirBoundsAndTheContext() {
        List<TraceRequest> trace = generator(1, 5_000, 300).generate(5);
        assertThat(trace).allSatisfy(r -> {
            assertThat(r.promptLen()).isBetween(4, 299);
            assertThat(r.outputLen()).isBetween(1, 256);
            assertThat(r.promptLen() + r.outputLen()).isLessThanOrEqualTo(300);
        });
        // the tails are really clipped: some prompts hit the context bound
        assertThat(trace).anySatisfy(r -> assertThat(r.promptLen()).isEqualTo(299));
    }

    @Test
    void logNormalMedianIsTheGivenMedian() {
        LengthDistribution d = new LengthDistribution(100, 1.0, 1, 100_000);
        SplittableRandom rnd = new SplittableRandom(9);
        int[] samples = new int[20_001];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = d.sample(rnd);
        }
        java.util.Arrays.sort(samples);
        assertThat(samples[samples.length / 2]).isBetween(95, 105);
        assertThat(d.unclippedMean()).isCloseTo(100 * Math.exp(0.5), within(1e-9));
    }

    @Test
    void badParametersAreRejectedWithTheFieldName() {
        assertThatThrownBy(() -> generator(0, 10, 1024)).hasMessageContaining("requestRate");
        assertThatThrownBy(() -> generator(1, 0, 1024)).hasMessageContaining("numRequests");
        assertThatThrownBy(() -> new TraceGenerator(1, 10, PROMPT, OUTPUT, 4)).hasMessageContaining("prompt.min");
        assertThatThrownBy(() -> new LengthDistribution(10, 1, 8, 4)).hasMessageContaining("max");
        assertThatThrownBy(() -> new LengthDistribution(0.5, 1, 1, 4)).hasMessageContaining("median");
        assertThatThrownBy(() -> new TraceRequest(-1, 1, 1)).hasMessageContaining("arrivalOffsetMillis");
    }
}
