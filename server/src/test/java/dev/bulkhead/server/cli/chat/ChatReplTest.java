package dev.bulkhead.server.cli.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chat REPL driven through JLine's external terminal, keys in and screen out, on the embedded model. */
class ChatReplTest {

    // NOTE: what xterm sends for the up arrow once JLine has switched it to keypad mode (smkx, "\e[?1h\e=").
    private static final String UP = "\u001bOA";
    private static final String CTRL_C = "\u0003";
    private static final String CTRL_D = "\u0004";

    @TempDir
    Path tmp;

    private static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
    }

    private static List<String> roles(ChatRepl repl) {
        return repl.conversation().messages().stream().map(m -> (String) m.get("role")).toList();
    }

    private static List<Object> contents(ChatRepl repl) {
        return repl.conversation().messages().stream().map(m -> m.get("content")).toList();
    }

    @Test
    void historyIsKeptInItsFileAndTheUpArrowRecallsItInTheNextChat() throws Exception {
        Path history = tmp.resolve("chat_history");
        try (ReplDriver first = new ReplDriver(ReplDriver.engine(512, 0), greedy(8), history)) {
            first.type("Once upon a time\r");
            first.awaitScreen(ChatRepl.PROMPT, 2);
            first.type(CTRL_D);
            first.awaitExit();
            // NOTE: Ctrl-D ends on a new line, so the shell's prompt does not land after ours.
            assertThat(first.screen()).endsWith("\n");
        }
        assertThat(Files.readString(history)).contains("Once upon a time");

        try (ReplDriver second = new ReplDriver(ReplDriver.engine(512, 0), greedy(8), history)) {
            second.type(UP + "\r");
            second.awaitScreen(ChatRepl.PROMPT, 2);
            second.type("/exit\r");
            second.awaitExit();
            assertThat(roles(second.repl)).containsExactly("user", "assistant");
            assertThat(contents(second.repl).getFirst()).isEqualTo("Once upon a time");
        }
    }

    @Test
    void ctrlCStopsTheAnswerFreesItsKvBlocksAndReturnsToThePrompt() throws Exception {
        // NOTE: 20 ms a step makes the 400-token answer take 8 s, so Ctrl-C surely lands in the middle of it.
        LlmEngine engine = ReplDriver.engine(512, 20);
        try (ReplDriver d = new ReplDriver(engine, greedy(400), tmp.resolve("h"))) {
            d.type("Once upon a time\r");
            d.await(() -> engine.stats().kv().numInUse() > 0 && engine.inFlight() == 1, "the answer to be running");
            d.type(CTRL_C);
            d.awaitErrors("[answer stopped]");
            d.await(() -> engine.inFlight() == 0 && engine.stats().kv().numInUse() == 0,
                    "the cancelled request's KV blocks to be freed");
            d.awaitScreen(ChatRepl.PROMPT, 2);
            d.type("/exit\r");
            d.awaitExit();
            assertThat(roles(d.repl)).containsExactly("user", "assistant");
            int answerTokens = engine.tokenizer().encode((String) contents(d.repl).get(1), false).length;
            assertThat(answerTokens).isLessThan(300);
            assertThat(engine.stats().kv().numFree() + engine.stats().kv().numCachedIdle())
                    .isEqualTo(engine.stats().kv().capacity());
        }
    }

    @Test
    void ctrlCAtThePromptClearsTheLineAndKeepsTheChat() throws Exception {
        try (ReplDriver d = new ReplDriver(ReplDriver.engine(512, 0), greedy(4), tmp.resolve("h"))) {
            // NOTE: Ctrl-C is a signal, out of band: sent with the text in one write it can reach the reader before
            // the text does (a person's Ctrl-C always follows the echo of what they typed), so wait for the echo.
            d.type("half a thought");
            d.awaitScreen("half a thought", 1);
            d.type(CTRL_C);
            d.awaitErrors("(Ctrl-D or /exit to quit)");
            d.type("/exit\r");
            d.awaitExit();
            assertThat(d.repl.conversation().size()).isZero();
        }
    }

    @Test
    void unknownSlashCommandIsAnErrorAndNeverReachesTheModel() throws Exception {
        LlmEngine engine = ReplDriver.engine(512, 0);
        try (ReplDriver d = new ReplDriver(engine, greedy(4), tmp.resolve("h"))) {
            d.type("/quit2 now\r");
            d.awaitErrors("unknown command /quit2 (not sent to the model); /help lists them");
            d.type("/exit\r");
            d.awaitExit();
            assertThat(d.repl.conversation().size()).isZero();
            assertThat(engine.stats().numFinished()).isZero();
        }
    }

    @Test
    void tabCompletesSlashCommands() throws Exception {
        try (ReplDriver d = new ReplDriver(ReplDriver.engine(512, 0), greedy(4), tmp.resolve("h"))) {
            d.type("/he\t\r");
            d.awaitScreen("list these commands and keys", 1);
            d.type("/exit\r");
            d.awaitExit();
        }
    }

    @Test
    void tripleQuotesMakeOneMultiLineMessage() throws Exception {
        try (ReplDriver d = new ReplDriver(ReplDriver.engine(512, 0), greedy(4), tmp.resolve("h"))) {
            d.type("\"\"\"\rThe dog ran.\r/not a command\r\"\"\"\r");
            d.awaitScreen(ChatRepl.PROMPT, 2);
            d.type("/exit\r");
            d.awaitExit();
            assertThat(contents(d.repl).getFirst()).isEqualTo("The dog ran.\n/not a command");
            assertThat(d.errors()).doesNotContain("unknown command");
        }
    }

    @Test
    void dropsTheOldestTurnsWhenTheConversationOutgrowsTheContext() throws Exception {
        // NOTE: 96 tokens of context, 24-token answers: about three turns fit, so the fifth must drop the first.
        LlmEngine engine = ReplDriver.engine(96, 0);
        try (ReplDriver d = new ReplDriver(engine, greedy(24), tmp.resolve("h"))) {
            String[] messages = {"Lily had a red ball.", "Tom saw a big dog.", "The sun was hot.",
                    "They went to the park.", "Mom made a cake."};
            for (int i = 0; i < messages.length; i++) {
                d.type(messages[i] + "\r");
                d.awaitScreen(ChatRepl.PROMPT, i + 2);
            }
            d.type("/exit\r");
            d.awaitExit();
            assertThat(d.errors()).contains("oldest turn").contains("to fit the 96-token context]")
                    .doesNotContain("bulkhead:");
            assertThat(contents(d.repl)).doesNotContain(messages[0]).contains(messages[4]);
            assertThat(roles(d.repl).getFirst()).isEqualTo("user");
            assertThat(engine.stats().numFinished()).isEqualTo(messages.length);
        }
    }

    @Test
    void maxTokensIsClampedToTheRoomLeftInTheContext() throws Exception {
        // NOTE: 480 asked in a 512-token context: the engine would refuse it for any prompt over 32 tokens.
        LlmEngine engine = ReplDriver.engine(512, 0);
        try (ReplDriver d = new ReplDriver(engine, greedy(480), tmp.resolve("h"))) {
            d.type("Once upon a time there was a little girl named Lily who liked to play in the park.\r");
            d.awaitScreen(ChatRepl.PROMPT, 2);
            d.type("And then?\r");
            d.awaitScreen(ChatRepl.PROMPT, 3);
            d.type("/exit\r");
            d.awaitExit();
            assertThat(d.errors()).doesNotContain("bulkhead:").contains("oldest turn");
            assertThat(engine.stats().numFinished()).isEqualTo(2);
        }
    }

    @Test
    void aTemplateThatRaisesKeepsTheSession() throws Exception {
        String template = "{% if messages[-1]['content'] == 'boom' %}{{ raise_exception('boom is not allowed') }}"
                + "{% endif %}{{ bos_token }}{% for m in messages %}{{ m['content'] }} {% endfor %}";
        try (ReplDriver d = new ReplDriver(ReplDriver.engine(512, 0), greedy(4), tmp.resolve("h"), template)) {
            d.type("boom\r");
            d.awaitErrors("boom is not allowed");
            d.type("The cat sat.\r");
            d.awaitScreen(ChatRepl.PROMPT, 3);
            d.type("/exit\r");
            d.awaitExit();
            assertThat(contents(d.repl).getFirst()).isEqualTo("The cat sat.");
            assertThat(roles(d.repl)).containsExactly("user", "assistant");
        }
    }

    @Test
    void saveResetSystemAndLoadRoundTrip() throws Exception {
        Path saved = tmp.resolve("chat.json");
        try (ReplDriver d = new ReplDriver(ReplDriver.engine(512, 0), greedy(4), tmp.resolve("h"))) {
            d.type("/system Tell a story.\r");
            d.awaitErrors("Set the system prompt.");
            d.type("The cat sat.\r");
            d.awaitScreen(ChatRepl.PROMPT, 3);
            d.type("/save " + saved + "\r");
            d.awaitErrors("Saved 3 messages to " + saved);
            d.type("/reset\r");
            d.awaitErrors("Cleared the conversation (2 messages; the system prompt is kept).");
            assertThat(d.repl.conversation().size()).isZero();
            d.type("/load " + saved + "\r");
            d.awaitErrors("Loaded 3 messages");
            d.type("/load\r");
            d.awaitErrors("/load needs a FILE");
            d.type("/exit\r");
            d.awaitExit();
            assertThat(roles(d.repl)).containsExactly("system", "user", "assistant");
            assertThat(contents(d.repl).getFirst()).isEqualTo("Tell a story.");
        }
    }

    @Test
    void loadNamesTheBadField() throws Exception {
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"tool\",\"content\":\"x\"}]}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Conversation.load(bad))
                .hasMessageContaining("messages[1].role must be system, user or assistant, got 'tool'");
        Conversation c = new Conversation("sys");
        c.addUser("a");
        c.addAssistant("b");
        c.save(tmp.resolve("ok.json"));
        assertThat(Conversation.load(tmp.resolve("ok.json")).messages())
                .isEqualTo(List.of(Map.of("role", "system", "content", "sys"), Map.of("role", "user", "content", "a"),
                        Map.of("role", "assistant", "content", "b")));
    }
}
