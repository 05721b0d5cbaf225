package dev.bulkhead.model.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.model.chat.ChatTemplate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plain template `bulkhead chat` gives the embedded story model: the conversation as one story. */
class EmbeddedChatTemplateTest {

    @Test
    void rendersTheConversationAsOneStoryAfterBos() {
        ChatTemplate t = ChatTemplate.compile(EmbeddedModel.chatTemplate());
        List<Map<String, Object>> messages = List.of(Map.of("role", "system", "content", "A story about a dog."),
                Map.of("role", "user", "content", "Once upon a time, Max found a ball. "),
                Map.of("role", "assistant", "content", " He played all day."),
                Map.of("role", "user", "content", "Then it rained."));

        String prompt = t.render(messages, null, true, Map.of("bos_token", "<s>", "eos_token", "</s>"));

        assertThat(prompt).isEqualTo("<s>A story about a dog. Once upon a time, Max found a ball. He played all day. "
                + "Then it rained.");
    }
}
