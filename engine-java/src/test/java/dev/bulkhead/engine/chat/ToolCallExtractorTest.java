package dev.bulkhead.engine.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Tool calls found in whole answers and in answers cut into arbitrary stream pieces, for both formats. */
class ToolCallExtractorTest {

    private final ObjectMapper json = new ObjectMapper();

    private static final String HERMES = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
            + "{\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", "
            + "\"arguments\": {\"tz\": \"CET\"}}\n</tool_call>";

    @Test
    void hermesAnswerSplitsIntoTextAndCalls() {
        ToolCallExtractor.Split s = whole(ToolCallFormat.HERMES, HERMES);
        assertThat(s.text()).isEqualTo("Let me check.\n\n");
        assertThat(s.calls()).extracting(ToolCall::name).containsExactly("get_weather", "get_time");
        assertThat(s.calls().get(0).arguments()).isEqualTo("{\"city\":\"Paris\",\"unit\":\"c\"}");
        assertThat(s.calls().get(0).id()).startsWith("call_").isNotEqualTo(s.calls().get(1).id());
    }

    @Test
    void anyStreamCutGivesTheSameTextAndCallsAsTheWholeAnswer() {
        Random random = new Random(42);
        for (String answer : List.of(HERMES, "no calls <tool at all> <tool_call", "<tool_call>{\"name\":\"f\"}</tool_call>")) {
            ToolCallExtractor.Split expected = whole(ToolCallFormat.HERMES, answer);
            for (int trial = 0; trial < 200; trial++) {
                ToolCallExtractor x = new ToolCallExtractor(ToolCallFormat.HERMES, json);
                List<ToolCallExtractor.Piece> pieces = new ArrayList<>();
                for (int at = 0; at < answer.length(); ) {
                    int next = Math.min(answer.length(), at + 1 + random.nextInt(6));
                    pieces.addAll(x.push(answer.substring(at, next), next == answer.length()));
                    at = next;
                }
                ToolCallExtractor.Split got = ToolCallExtractor.Split.of(pieces, true, 0);
                assertThat(got.text()).isEqualTo(expected.text());
                assertThat(got.calls()).extracting(ToolCall::name, ToolCall::arguments).containsExactlyElementsOf(
                        expected.calls().stream().map(c -> org.assertj.core.groups.Tuple.tuple(c.name(),
                                c.arguments())).toList());
            }
        }
    }

    @Test
    void textIsReleasedAtOnceExceptWhatCouldStartATag() {
        ToolCallExtractor x = new ToolCallExtractor(ToolCallFormat.HERMES, json);
        assertThat(ToolCallExtractor.Split.of(x.push("Hello <tool"), true, 0).text()).isEqualTo("Hello ");
        assertThat(ToolCallExtractor.Split.of(x.push("box> done"), true, 0).text()).isEqualTo("<toolbox> done");
    }

    @Test
    void brokenOrUnfinishedCallsComeBackAsTextOrAreTriedAtTheEnd() {
        assertThat(whole(ToolCallFormat.HERMES, "<tool_call>{\"name\": oops}</tool_call>"))
                .isEqualTo(new ToolCallExtractor.Split("<tool_call>{\"name\": oops}</tool_call>", List.of()));
        assertThat(whole(ToolCallFormat.HERMES, "<tool_call>{\"arguments\": {}}</tool_call>").calls()).isEmpty();
        assertThat(whole(ToolCallFormat.HERMES, "<tool_call>{\"name\": \"f\"} trailing</tool_call>").calls())
                .isEmpty();
        ToolCallExtractor.Split eos = whole(ToolCallFormat.HERMES, "<tool_call>\n{\"name\": \"f\", \"arguments\": "
                + "{\"a\": 1}}\n");
        assertThat(eos.calls()).extracting(ToolCall::arguments).containsExactly("{\"a\":1}");
        assertThat(whole(ToolCallFormat.HERMES, "<tool_call>{\"name\": \"f\"").text())
                .isEqualTo("<tool_call>{\"name\": \"f\"");
    }

    @Test
    void parallelFalseKeepsTheFirstCallOnly() {
        ToolCallExtractor x = new ToolCallExtractor(ToolCallFormat.HERMES, json);
        assertThat(ToolCallExtractor.Split.of(x.push(HERMES, true), false, 0).calls())
                .extracting(ToolCall::name).containsExactly("get_weather");
        ToolCallExtractor y = new ToolCallExtractor(ToolCallFormat.HERMES, json);
        assertThat(ToolCallExtractor.Split.of(y.push(HERMES, true), false, 1).calls()).isEmpty();
    }

    @Test
    void llamaJsonAnswersAreCallsAndOtherAnswersAreText() {
        ToolCallExtractor.Split one = whole(ToolCallFormat.LLAMA3_JSON,
                " {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
        assertThat(one.calls()).extracting(ToolCall::name, ToolCall::arguments)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("get_weather", "{\"city\":\"Oslo\"}"));
        assertThat(one.text()).isEmpty();
        ToolCallExtractor.Split two = whole(ToolCallFormat.LLAMA3_JSON,
                "<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"arguments\": {\"x\": 2}}");
        assertThat(two.calls()).extracting(ToolCall::name).containsExactly("a", "b");
        assertThat(whole(ToolCallFormat.LLAMA3_JSON, "{not json").text()).isEqualTo("{not json");

        ToolCallExtractor x = new ToolCallExtractor(ToolCallFormat.LLAMA3_JSON, json);
        assertThat(x.push("  ")).isEmpty();
        assertThat(ToolCallExtractor.Split.of(x.push("Hello"), true, 0).text()).isEqualTo("  Hello");
        assertThat(ToolCallExtractor.Split.of(x.push(" {\"name\": \"f\"}", true), true, 0))
                .isEqualTo(new ToolCallExtractor.Split(" {\"name\": \"f\"}", List.of()));
    }

    @Test
    void formatsAreRecognisedFromTheTemplate() throws Exception {
        java.nio.file.Path file = java.nio.file.Path.of(System.getProperty("bulkhead.shared.dir", "../shared"),
                "chat-templates", "qwen3.jinja");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(file), "shared test data missing: "
                + file);
        String qwen3 = java.nio.file.Files.readString(file);
        assertThat(ToolCallFormat.of(qwen3)).contains(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.of("{{ '<|python_tag|>' }}")).contains(ToolCallFormat.LLAMA3_JSON);
        assertThat(ToolCallFormat.of("{% for m in messages %}{{ m.content }}{% endfor %}")).isEmpty();
    }

    private ToolCallExtractor.Split whole(ToolCallFormat f, String answer) {
        return ToolCallExtractor.Split.of(new ToolCallExtractor(f, json).push(answer, true), true, 0);
    }
}
