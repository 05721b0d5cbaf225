package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.model.embedded.EmbeddedModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The embedded stories260K model, as the tests open it: small, on two threads. */
final class Stories {

    /**
     * A Hermes-style template (as Qwen's) written for these tests: tools listed in a system turn, calls in
     * {@code <tool_call>} tags, tool results in a turn of their own.
     */
    static final String HERMES_TEMPLATE = """
            {%- if tools %}<|system|>Tools:{% for t in tools %} {{ t | tojson }}{% endfor %} Call as <tool_call>json</tool_call>
            {% endif %}
            {%- for m in messages %}
            {%- if m.role == 'assistant' and m.tool_calls %}<|assistant|>{% for c in m.tool_calls %}<tool_call>{"name": "{{ c.function.name }}", "arguments": {{ c.function.arguments | tojson }}}</tool_call>{% endfor %}
            {% elif m.role == 'tool' %}<|tool|>{{ m.content }}
            {% else %}<|{{ m.role }}|>{{ m.content }}
            {% endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}<|assistant|>{% endif %}""";

    private Stories() {
    }

    static EngineOptions options() {
        return EngineOptions.defaults().withThreads(2).withKvCacheBytes(8L << 20);
    }

    /** The embedded model as shipped: no chat template, so chats render as a plain transcript. */
    static LlmEngine open() {
        return LlmEngine.open(EmbeddedModel.extract().toString(), options(), new SimpleMeterRegistry());
    }

    /** A copy of the embedded model in {@code dir} with {@link #HERMES_TEMPLATE} as its chat template. */
    static LlmEngine openWithTemplate(Path dir) {
        try (Stream<Path> files = Files.list(EmbeddedModel.extract())) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
            Files.writeString(dir.resolve("chat_template.jinja"), HERMES_TEMPLATE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return LlmEngine.open(dir.toString(), options(), new SimpleMeterRegistry());
    }
}
