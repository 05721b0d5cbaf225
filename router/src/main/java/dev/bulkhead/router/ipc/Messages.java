package dev.bulkhead.router.ipc;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.internal.sampling.SampleResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The payload codecs of the protocol's structured fields: a request with its sampling parameters, a delta, a
 * completion, a log-probability entry. Field order is the wire order documented in
 * {@code docs/process-isolation.md}; decoding a request rebuilds {@link SamplingParams}, whose constructor
 * validates it again.
 */
public final class Messages {

    private static final FinishReason[] REASONS = FinishReason.values();

    private Messages() {
    }

    public static void request(WireOut out, GenerateRequest r) {
        out.str(r.requestId()).str(r.prompt()).ints(r.promptTokenIds()).i32(r.priority());
        Instant d = r.deadline();
        out.i64(d == null ? -1 : Math.addExact(Math.multiplyExact(d.getEpochSecond(), 1_000_000_000L), d.getNano()));
        SamplingParams s = r.sampling();
        out.f32(s.temperature()).i32(s.topK()).f32(s.topP()).f32(s.minP()).f32(s.repetitionPenalty())
                .f32(s.presencePenalty()).f32(s.frequencyPenalty());
        out.bool(s.seed() != null).i64(s.seed() == null ? 0 : s.seed());
        out.i32(s.maxTokens()).ints(s.stopTokenIds()).i32(s.stop().size());
        s.stop().forEach(out::str);
        out.bool(s.ignoreEos()).bool(s.includeStopStringInOutput()).bool(s.skipSpecialTokens()).i32(s.logprobs());
        switch (s.guidedDecoding()) {
            case null -> out.u8(0);
            case GuidedDecoding.JsonObject o -> out.u8(1);
            case GuidedDecoding.JsonSchema j -> out.u8(2).str(j.schemaJson());
        }
    }

    public static GenerateRequest request(WireIn in) {
        String id = in.str();
        String prompt = in.str();
        int[] ids = in.ints();
        int priority = in.i32();
        long deadlineNanos = in.i64();
        Instant deadline = deadlineNanos < 0 ? null : Instant.ofEpochSecond(Math.floorDiv(deadlineNanos, 1_000_000_000L),
                Math.floorMod(deadlineNanos, 1_000_000_000L));
        SamplingParams.Builder b = SamplingParams.builder().temperature(in.f32()).topK(in.i32()).topP(in.f32())
                .minP(in.f32()).repetitionPenalty(in.f32()).presencePenalty(in.f32()).frequencyPenalty(in.f32());
        boolean hasSeed = in.bool();
        long seed = in.i64();
        b.seed(hasSeed ? seed : null).maxTokens(in.i32());
        int[] stopIds = in.ints();
        b.stopTokenIds(stopIds == null ? new int[0] : stopIds);
        int n = in.count(4);
        List<String> stop = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            stop.add(in.str());
        }
        b.stop(stop).ignoreEos(in.bool()).includeStopStringInOutput(in.bool()).skipSpecialTokens(in.bool())
                .logprobs(in.i32());
        int guided = in.u8();
        b.guidedDecoding(switch (guided) {
            case 0 -> null;
            case 1 -> new GuidedDecoding.JsonObject();
            case 2 -> new GuidedDecoding.JsonSchema(in.str());
            default -> throw new ProtocolException("unknown guided decoding kind " + guided);
        });
        return new GenerateRequest(id, prompt, ids, b.build(), priority, deadline);
    }

    /** A delta of request {@code rid}, stamped with the sender's monotonic clock. */
    public static void delta(WireOut out, TokenDelta d, long sentNanos) {
        out.i32(d.tokenId()).str(d.text()).i32(d.index()).u8(reason(d.finishReason()));
        sampleResult(out, d.logprobs());
        out.i64(sentNanos);
    }

    /** A delta for {@code requestId}; the trailing send time is read with {@link WireIn#i64()} after it. */
    public static TokenDelta delta(WireIn in, String requestId) {
        int token = in.i32();
        String text = in.str();
        int index = in.i32();
        FinishReason r = reason(in.u8());
        return new TokenDelta(requestId, token, text, index, r, sampleResult(in));
    }

    public static void completion(WireOut out, Completion c) {
        out.str(c.requestId()).ints(c.promptTokenIds()).ints(c.tokenIds()).str(c.text()).u8(reason(c.finishReason()))
                .f64(c.timeToFirstTokenMillis()).f64(c.totalMillis()).i32(c.logprobs().size());
        c.logprobs().forEach(l -> sampleResult(out, l));
    }

    public static Completion completion(WireIn in) {
        String id = in.str();
        int[] prompt = in.ints();
        int[] tokens = in.ints();
        String text = in.str();
        FinishReason r = reason(in.u8());
        double ttft = in.f64();
        double total = in.f64();
        int n = in.count(1);
        List<SampleResult> lp = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SampleResult s = sampleResult(in);
            if (s == null) {
                throw new ProtocolException("a completion's logprob entry is empty");
            }
            lp.add(s);
        }
        if (r == null || prompt == null || tokens == null || text == null) {
            throw new ProtocolException("a completion lacks its finish reason, ids or text");
        }
        return new Completion(id, prompt, tokens, text, r, ttft, total, lp);
    }

    private static void sampleResult(WireOut out, SampleResult s) {
        out.bool(s != null);
        if (s == null) {
            return;
        }
        out.i32(s.tokenId()).f32(s.logprob()).i32(s.top().size());
        for (SampleResult.TokenLogprob t : s.top()) {
            out.i32(t.tokenId()).f32(t.logprob());
        }
    }

    private static SampleResult sampleResult(WireIn in) {
        if (!in.bool()) {
            return null;
        }
        int token = in.i32();
        float lp = in.f32();
        int n = in.count(8);
        List<SampleResult.TokenLogprob> top = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            top.add(new SampleResult.TokenLogprob(in.i32(), in.f32()));
        }
        return new SampleResult(token, lp, top);
    }

    private static int reason(FinishReason r) {
        return r == null ? 0xff : r.ordinal();
    }

    private static FinishReason reason(int b) {
        if (b == 0xff) {
            return null;
        }
        if (b >= REASONS.length) {
            throw new ProtocolException("unknown finish reason " + b);
        }
        return REASONS[b];
    }
}
