package dev.bulkhead.engine.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SamplingParamsTest {

    @Test
    void defaultsMatchVllm() {
        SamplingParams p = SamplingParams.defaults();
        assertThat(p.temperature()).isEqualTo(1f);
        assertThat(p.topK()).isZero();
        assertThat(p.topP()).isEqualTo(1f);
        assertThat(p.minP()).isZero();
        assertThat(p.repetitionPenalty()).isEqualTo(1f);
        assertThat(p.seed()).isNull();
        assertThat(p.maxTokens()).isEqualTo(16);
        assertThat(p.skipSpecialTokens()).isTrue();
        assertThat(p.includeStopStringInOutput()).isFalse();
        assertThat(p.logprobs()).isEqualTo(SamplingParams.LOGPROBS_OFF);
        assertThat(p.isGreedy()).isFalse();
    }

    @Test
    void greedyConvenience() {
        SamplingParams p = SamplingParams.greedy(7);
        assertThat(p.isGreedy()).isTrue();
        assertThat(p.maxTokens()).isEqualTo(7);
        assertThat(SamplingParams.builder().temperature(0.5f).topK(1).build().isGreedy()).isTrue();
        assertThat(SamplingParams.builder().temperature(SamplingParams.GREEDY_TEMPERATURE / 2).build().isGreedy())
                .isTrue();
    }

    @Test
    void topKMinusOneMeansOff() {
        assertThat(SamplingParams.builder().topK(-1).build().topK()).isZero();
        assertThat(SamplingParams.builder().topK(-1).build()).isEqualTo(SamplingParams.defaults());
    }

    @Test
    void arraysAreCopiedAndCompareByValue() {
        int[] ids = {5, 6};
        SamplingParams p = SamplingParams.builder().stopTokenIds(ids).stop("a").seed(3L).build();
        ids[0] = 99;
        assertThat(p.stopTokenIds()).containsExactly(5, 6);
        p.stopTokenIds()[1] = 99;
        assertThat(p.isStopTokenId(6)).isTrue();
        assertThat(p.isStopTokenId(99)).isFalse();
        SamplingParams same = SamplingParams.builder().stopTokenIds(5, 6).stop("a").seed(3L).build();
        assertThat(p).isEqualTo(same).hasSameHashCodeAs(same);
        assertThat(p.toBuilder().build()).isEqualTo(p);
        assertThat(p.toString()).contains("stopTokenIds=[5, 6]");
    }

    @Test
    void stopListIsImmutableCopy() {
        List<String> stops = new ArrayList<>(List.of("x"));
        SamplingParams p = SamplingParams.builder().stop(stops).build();
        stops.add("y");
        assertThat(p.stop()).containsExactly("x");
        assertThatThrownBy(() -> p.stop().add("z")).isInstanceOf(UnsupportedOperationException.class);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.temperature(-1), "temperature must be in [0, 100.0], got -1.0"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.temperature(101), "temperature"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.temperature(Float.NaN), "temperature"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.topK(-2), "top_k must be -1 or 0 (off) or >= 1, got -2"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.topP(0), "top_p must be in (0, 1], got 0.0"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.topP(1.5f), "top_p"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.minP(-0.1f), "min_p must be in [0, 1]"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.repetitionPenalty(0), "repetition_penalty must be > 0"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.repetitionPenalty(Float.POSITIVE_INFINITY), "repetition_penalty"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.presencePenalty(2.5f), "presence_penalty must be in [-2.0, 2.0], got 2.5"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.frequencyPenalty(-3), "frequency_penalty must be in [-2.0, 2.0]"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.maxTokens(0), "max_tokens must be >= 1, got 0"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.stopTokenIds(3, -1), "stop_token_ids must be >= 0, got -1"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.stopTokenIds(new int[129]), "stop_token_ids must hold at most 128"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.stop(""), "stop strings must be 1 to 256 chars long, got 0 chars"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.stop("x".repeat(257)), "stop strings must be 1 to 256"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.stop(Collections.nCopies(17, "s")), "stop must hold at most 16 strings, got 17"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.stop("a", null), "got null"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.logprobs(21), "logprobs must be in [-1, 20]"),
                Arguments.of((UnaryOperator<SamplingParams.Builder>) b -> b.logprobs(-2), "logprobs"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void rejectsOutOfRangeValuesNamingTheField(UnaryOperator<SamplingParams.Builder> edit, String message) {
        assertThatThrownBy(() -> edit.apply(SamplingParams.builder()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void acceptsTheBoundaries() {
        SamplingParams p = SamplingParams.builder().temperature(100).topK(1).topP(1).minP(1).presencePenalty(-2)
                .frequencyPenalty(2).stop(Collections.nCopies(16, "x".repeat(256))).logprobs(20).build();
        assertThat(p.stop()).hasSize(16);
    }

    @Test
    void guidedDecodingTakesPartInEqualityAndToString() {
        SamplingParams schema = SamplingParams.builder()
                .guidedDecoding(new GuidedDecoding.JsonSchema("{\"type\": \"object\"}")).build();
        SamplingParams same = SamplingParams.builder()
                .guidedDecoding(new GuidedDecoding.JsonSchema("{\"type\": \"object\"}")).build();
        SamplingParams object = SamplingParams.builder().guidedDecoding(new GuidedDecoding.JsonObject()).build();
        assertThat(schema).isEqualTo(same).hasSameHashCodeAs(same).isNotEqualTo(object);
        assertThat(object).isNotEqualTo(SamplingParams.defaults());
        assertThat(SamplingParams.defaults().guidedDecoding()).isNull();
        assertThat(object.toBuilder().build()).isEqualTo(object);
        assertThat(schema.toString()).contains("guidedDecoding=JsonSchema");
    }

    @Test
    void unsupportedSchemaKeywordsAreRejectedAsResponseFormat() {
        assertThatThrownBy(() -> new GuidedDecoding.JsonSchema("{\"type\": \"string\", \"pattern\": \"a+\"}"))
                .isInstanceOfSatisfying(dev.bulkhead.engine.InvalidRequestException.class, e -> {
                    assertThat(e.field()).isEqualTo("response_format");
                    assertThat(e.getMessage()).contains("'pattern'");
                });
    }
}
