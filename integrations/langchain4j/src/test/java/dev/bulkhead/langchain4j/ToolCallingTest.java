package dev.bulkhead.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.LlmEngine;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tools end to end: LangChain4j's tool specifications reach the model's template, the calls it writes come back as
 * {@link ToolExecutionRequest}s that AiServices executes, and the results render into the next prompt. A scripted
 * backend writes the calls a tiny model cannot; with {@code ToolChoice.REQUIRED} the real story model is made to
 * call by guided decoding.
 */
class ToolCallingTest {

    private static final String CALL = "Let me look.<tool_call>{\"name\": \"weather\", \"arguments\": {\"city\": "
            + "\"Paris\"}}</tool_call>";

    static final class WeatherTools {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool("The weather of a city")
        String weather(@P("the city") String city) {
            cities.add(city);
            return "sunny, 21 C";
        }
    }

    interface Assistant {
        String chat(String message);
    }

    @Test
    void aiServicesRunTheToolTheModelCallsAndAnswerWithItsResult() {
        ScriptedBackend backend = new ScriptedBackend(Stories.HERMES_TEMPLATE, CALL, "It is sunny in Paris.");
        ChatModel model = BulkheadChatModel.builder().backend(backend).build();
        WeatherTools tools = new WeatherTools();
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).tools(tools).build();

        assertThat(assistant.chat("Weather in Paris?")).isEqualTo("It is sunny in Paris.");
        assertThat(tools.cities).containsExactly("Paris");
        assertThat(backend.prompts).hasSize(2);
        assertThat(backend.prompts.get(0))
                .contains("<|system|>Tools: {\"type\": \"function\", \"function\": {\"name\": \"weather\", "
                        + "\"description\": \"The weather of a city\", \"parameters\": {\"type\": \"object\", "
                        + "\"properties\": {\"city\": {\"type\": \"string\", \"description\": \"the city\"}}")
                .endsWith("<|user|>Weather in Paris?\n<|assistant|>");
        assertThat(backend.prompts.get(1))
                .contains("<|assistant|><tool_call>{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}"
                        + "</tool_call><|tool|>sunny, 21 C\n<|assistant|>");
    }

    @Test
    void aCallInTheAnswerIsAToolExecutionRequestWithTheTextBeforeIt() throws Exception {
        ScriptedBackend backend = new ScriptedBackend(Stories.HERMES_TEMPLATE, CALL);
        ChatModel model = BulkheadChatModel.builder().backend(backend).build();
        ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"))
                .toolSpecifications(weatherSpec()).build());

        assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_EXECUTION);
        assertThat(r.aiMessage().text()).isEqualTo("Let me look.");
        ToolExecutionRequest call = r.aiMessage().toolExecutionRequests().getFirst();
        assertThat(call.name()).isEqualTo("weather");
        assertThat(call.id()).startsWith("call_");
        assertThat(new ObjectMapper().readTree(call.arguments()).get("city").asText()).isEqualTo("Paris");
    }

    @Test
    void aStreamedCallArrivesWholeAfterTheTextBeforeIt() throws Exception {
        ScriptedBackend backend = new ScriptedBackend(Stories.HERMES_TEMPLATE, CALL);
        Recorder r = new Recorder();
        BulkheadStreamingChatModel.builder().backend(backend).build().chat(ChatRequest.builder()
                .messages(UserMessage.from("Weather in Paris?")).toolSpecifications(weatherSpec()).build(), r);
        ChatResponse done = r.done.get(5, TimeUnit.SECONDS);

        assertThat(r.text()).isEqualTo("Let me look.");
        assertThat(r.toolCalls).hasSize(1);
        assertThat(r.toolCalls.getFirst().index()).isZero();
        assertThat(r.toolCalls.getFirst().toolExecutionRequest().name()).isEqualTo("weather");
        assertThat(done.aiMessage().toolExecutionRequests()).containsExactly(r.toolCalls.getFirst()
                .toolExecutionRequest());
        assertThat(done.finishReason()).isEqualTo(FinishReason.TOOL_EXECUTION);
    }

    @Test
    void requiredToolChoiceMakesTheStoryModelCallAnOfferedTool(@TempDir Path dir) throws Exception {
        ToolSpecification clock = ToolSpecification.builder().name("clock")
                .parameters(JsonObjectSchema.builder()
                        .addProperty("zone", JsonEnumSchema.builder().enumValues("UTC", "CET").build())
                        .required("zone").build())
                .build();
        try (LlmEngine engine = Stories.openWithTemplate(dir)) {
            // NOTE: no max_tokens: the answer may use what the 512-token context leaves, as the grammar allows spaces.
            ChatModel model = BulkheadChatModel.builder().engine(engine).temperature(0.0).build();
            // NOTE: enum arguments, so that the forced call is complete well within max_tokens.
            ToolSpecification weather = ToolSpecification.builder().name("weather").parameters(JsonObjectSchema
                    .builder().addProperty("city", JsonEnumSchema.builder().enumValues("Paris", "Rome").build())
                    .required("city").build()).build();
            ChatRequest ask = ChatRequest.builder().messages(UserMessage.from("What time is it?"))
                    .toolSpecifications(clock, weather).build();

            assertThat(model.chat(ask.toBuilder().maxOutputTokens(16).build()).aiMessage().hasToolExecutionRequests())
                    .as("left to itself").isFalse();
            ChatResponse r = model.chat(ask.toBuilder().toolChoice(ToolChoice.REQUIRED).build());
            List<ToolExecutionRequest> calls = r.aiMessage().toolExecutionRequests();
            assertThat(calls).as("calls in %s", r).hasSize(1);
            JsonNode args = new ObjectMapper().readTree(calls.getFirst().arguments());
            if (calls.getFirst().name().equals("clock")) {
                assertThat(args.get("zone").asText()).isIn("UTC", "CET");
            } else {
                assertThat(calls.getFirst().name()).isEqualTo("weather");
                assertThat(args.get("city").asText()).isIn("Paris", "Rome");
            }
            assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_EXECUTION);
        }
    }

    private static ToolSpecification weatherSpec() {
        return ToolSpecification.builder().name("weather").description("The weather of a city")
                .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();
    }
}
