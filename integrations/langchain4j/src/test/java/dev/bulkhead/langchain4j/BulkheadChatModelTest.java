package dev.bulkhead.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.router.ModelSpec;
import dev.bulkhead.router.Route;
import dev.bulkhead.router.Router;
import dev.bulkhead.router.RouterConfig;
import dev.bulkhead.router.RoutingTable;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonBooleanSchema;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The blocking chat model on the embedded story model, directly and through AiServices, over an engine and a router. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BulkheadChatModelTest {

    /** What the plain transcript of a template-less model looks like for one user message. */
    private static final String TRANSCRIPT = "user: Once upon a time\nassistant:";

    private LlmEngine engine;
    private ChatModel model;

    @BeforeAll
    void open() {
        engine = Stories.open();
        model = BulkheadChatModel.builder().engine(engine).modelName("stories").temperature(0.0).build();
    }

    @AfterAll
    void close() {
        engine.close();
    }

    private ChatResponse chat(ChatModel m, int maxTokens, List<String> stop) {
        return m.chat(ChatRequest.builder().messages(UserMessage.from("Once upon a time"))
                .maxOutputTokens(maxTokens).stopSequences(stop).build());
    }

    @Test
    void aChatIsTheEnginesAnswerToTheRenderedPromptWithUsageAndFinishReason() {
        ChatResponse r = chat(model, 24, List.of());
        Completion direct = engine.generate(GenerateRequest.of(TRANSCRIPT, SamplingParams.greedy(24))).join();

        assertThat(direct.text()).isNotBlank();
        assertThat(r.aiMessage().text()).isEqualTo(direct.text());
        assertThat(r.aiMessage().hasToolExecutionRequests()).isFalse();
        assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(engine.tokenizer().encode(TRANSCRIPT, true).length);
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(24);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.modelName()).isEqualTo("stories");
    }

    @Test
    void aStopSequenceEndsTheAnswerWithStop() {
        String full = chat(model, 24, List.of()).aiMessage().text();
        String[] words = full.strip().split("\\s+");
        assertThat(words.length).as("words in %s", full).isGreaterThan(3);
        String stop = " " + words[2];

        ChatResponse r = chat(model, 24, List.of(stop));
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(full).startsWith(r.aiMessage().text() + stop);
        assertThat(r.tokenUsage().outputTokenCount()).isLessThan(24);
    }

    interface Teller {
        String tell(String prompt);
    }

    @Test
    void aiServicesAnswerThroughTheModel() {
        ChatModel limited = BulkheadChatModel.builder().engine(engine).temperature(0.0).maxTokens(16).build();
        assertThat(limited.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).build()).modelName())
                .as("an engine-backed model reports the engine's name").isEqualTo(engine.name());
        Teller teller = AiServices.create(Teller.class, limited);
        String direct = engine.generate(GenerateRequest.of(TRANSCRIPT, SamplingParams.greedy(16))).join().text();
        assertThat(teller.tell("Once upon a time")).isEqualTo(direct);
    }

    enum Mood { HAPPY, SAD, SCARED }

    record Verdict(Mood mood, boolean ending) {
    }

    interface Judge {
        Verdict judge(String story);
    }

    @Test
    void aiServicesGetTypedAnswersThroughSchemaGuidedDecoding() {
        // A story model left alone never writes JSON; the schema's guided decoding makes it.
        assertThat(chat(model, 32, List.of()).aiMessage().text().strip()).doesNotStartWith("{");

        ChatModel json = BulkheadChatModel.builder().engine(engine).temperature(0.0).maxTokens(64).build();
        Verdict v = AiServices.create(Judge.class, json).judge("The dog found its ball.");
        assertThat(v).isNotNull();
        assertThat(v.mood()).isNotNull();
    }

    @Test
    void aJsonSchemaResponseFormatIsFollowed() throws Exception {
        JsonSchema schema = JsonSchema.builder().name("verdict").rootElement(JsonObjectSchema.builder()
                .addProperty("mood", JsonEnumSchema.builder().enumValues("happy", "sad").build())
                .addProperty("ending", new JsonBooleanSchema())
                .required("mood", "ending").additionalProperties(false).build()).build();
        ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Once upon a time"))
                .maxOutputTokens(64)
                .responseFormat(ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(schema).build())
                .build());

        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        JsonNode answer = new ObjectMapper().readTree(r.aiMessage().text());
        assertThat(answer.properties()).extracting(Map.Entry::getKey).containsExactly("mood", "ending");
        assertThat(answer.get("mood").asText()).isIn("happy", "sad");
        assertThat(answer.get("ending").isBoolean()).isTrue();
    }

    @Test
    void aRouterAliasAnswersAsTheEngineDoes() {
        RouterConfig config = RouterConfig.of(List.of(ModelSpec.of("stories", EmbeddedModel.extract().toString())),
                new RoutingTable(1, Map.of("story", Route.to("stories"))));
        try (Router router = Router.builder().config(config).start()) {
            ChatModel routed = BulkheadChatModel.builder().router(router, "story").temperature(0.0).build();
            ChatResponse r = chat(routed, 12, List.of());
            assertThat(r.aiMessage().text()).isEqualTo(chat(model, 12, List.of()).aiMessage().text());
            assertThat(r.modelName()).isEqualTo("story");
            assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(12);
        }
    }
}
