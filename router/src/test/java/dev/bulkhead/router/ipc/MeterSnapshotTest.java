package dev.bulkhead.router.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * STATS: a worker's registry read into a snapshot keeps every gauge, counter and timer under its Micrometer id
 * (name, tags, type, unit, description) through the wire, leaves distribution summaries out, and a payload that
 * cannot be a snapshot is a protocol violation.
 */
class MeterSnapshotTest {

    private static MeterSnapshot roundTrip(MeterSnapshot s) {
        WireOut out = WireOut.frame(FrameType.STATS, 16).i32(7);
        s.write(out);
        ByteBuffer frame = out.finish();
        frame.position(5);
        WireIn in = new WireIn(frame.slice());
        assertThat(in.i32()).isEqualTo(7);
        MeterSnapshot back = MeterSnapshot.read(in);
        assertThat(in.remaining()).as("nothing left over").isZero();
        return back;
    }

    private static WireIn payload(WireOut out) {
        ByteBuffer frame = out.finish();
        frame.position(5);
        return new WireIn(frame.slice());
    }

    @Test
    void everyGaugeCounterAndTimerOfAWorkersRegistryArrivesUnderItsMicrometerId() {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AtomicLong preemptions = new AtomicLong(3);
        Gauge.builder("bulkhead.kv_cache.usage", () -> 0.25).tags("model", "w").description("KV in use").register(r);
        Gauge.builder("vllm:num_requests_running", () -> 2).tags("model_name", "w").register(r);
        Counter.builder("bulkhead.requests.finished").tags("model", "w", "finish_reason", "stop").register(r)
                .increment(5);
        FunctionCounter.builder("bulkhead.preemptions", preemptions, AtomicLong::get).tags("model", "w").register(r);
        Timer t = Timer.builder("bulkhead.time_to_first_token").tags("model", "w").publishPercentiles(0.5).register(r);
        t.record(3, TimeUnit.MILLISECONDS);
        t.record(5, TimeUnit.MILLISECONDS);
        DistributionSummary.builder("bulkhead.step.tokens").tags("model", "w").register(r).record(4);

        MeterSnapshot back = roundTrip(MeterSnapshot.of(r));

        assertThat(back.readings()).as("5 meters and the timer's median").hasSize(6);
        Meter.Id median = new Meter.Id("bulkhead.time_to_first_token.percentile", Tags.of("model", "w", "phi", "0.5"),
                null, null, Meter.Type.GAUGE);
        assertThat(back.get(median).value()).as("in seconds, as a registry's percentile gauge")
                .isBetween(0.002, 0.006);
        assertThat(back.get(median).id().getBaseUnit()).isEqualTo("seconds");
        Meter.Id kv = new Meter.Id("bulkhead.kv_cache.usage", Tags.of("model", "w"), null, null, Meter.Type.GAUGE);
        assertThat(back.get(kv).value()).isEqualTo(0.25);
        assertThat(back.get(kv).id().getType()).isEqualTo(Meter.Type.GAUGE);
        assertThat(back.get(kv).id().getDescription()).isEqualTo("KV in use");
        assertThat(back.get(new Meter.Id("vllm:num_requests_running", Tags.of("model_name", "w"), null, null,
                Meter.Type.GAUGE)).value()).isEqualTo(2);
        MeterSnapshot.Reading stop = back.get(new Meter.Id("bulkhead.requests.finished",
                Tags.of("model", "w", "finish_reason", "stop"), null, null, Meter.Type.COUNTER));
        assertThat(stop.value()).isEqualTo(5);
        assertThat(stop.id().getType()).isEqualTo(Meter.Type.COUNTER);
        MeterSnapshot.Reading pre = back.get(new Meter.Id("bulkhead.preemptions", Tags.of("model", "w"), null, null,
                Meter.Type.COUNTER));
        assertThat(pre.value()).as("a function counter is a counter").isEqualTo(3);
        assertThat(pre.id().getType()).isEqualTo(Meter.Type.COUNTER);
        MeterSnapshot.Reading ttft = back.get(new Meter.Id("bulkhead.time_to_first_token", Tags.of("model", "w"), null,
                null, Meter.Type.TIMER));
        assertThat(ttft.count()).isEqualTo(2);
        assertThat(ttft.value()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(8));
        assertThat(ttft.id().getType()).isEqualTo(Meter.Type.TIMER);
        assertThat(back.readings().keySet()).as("no distribution summary")
                .noneMatch(id -> id.getName().equals("bulkhead.step.tokens"));
        assertThat(roundTrip(MeterSnapshot.EMPTY).readings()).isEmpty();
    }

    @Test
    void aPayloadThatIsNoSnapshotIsAProtocolViolation() {
        WireOut unknownKind = WireOut.frame(FrameType.STATS, 64).i32(1).str("a").u8(9).i32(0).str(null).str(null)
                .f64(1).i64(0);
        assertThatThrownBy(() -> MeterSnapshot.read(payload(unknownKind))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("unknown kind 9");

        WireOut tooMany = WireOut.frame(FrameType.STATS, 64).i32(1_000).str("a").u8(1);
        assertThatThrownBy(() -> MeterSnapshot.read(payload(tooMany))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("past the end");

        WireOut nullTag = WireOut.frame(FrameType.STATS, 64).i32(1).str("a").u8(1).i32(1).str("model").str(null)
                .str(null).str(null).f64(1).i64(0);
        assertThatThrownBy(() -> MeterSnapshot.read(payload(nullTag))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("null tag");

        WireOut nameless = WireOut.frame(FrameType.STATS, 64).i32(1).str(null).u8(1).i32(0).str(null).str(null)
                .f64(1).i64(0);
        assertThatThrownBy(() -> MeterSnapshot.read(payload(nameless))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("without a name");

        WireOut twice = WireOut.frame(FrameType.STATS, 64).i32(2);
        for (int i = 0; i < 2; i++) {
            twice.str("a").u8(2).i32(0).str(null).str(null).f64(i).i64(0);
        }
        assertThatThrownBy(() -> MeterSnapshot.read(payload(twice))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("twice");

        WireOut cut = WireOut.frame(FrameType.STATS, 64).i32(1).str("a").u8(1).i32(0).str(null).str(null).f64(1);
        assertThatThrownBy(() -> MeterSnapshot.read(payload(cut))).isInstanceOf(ProtocolException.class);
    }
}
