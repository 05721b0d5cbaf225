package dev.bulkhead.server.cli.chat;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.chat.ChatTemplate;
import dev.bulkhead.model.embedded.EmbeddedModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.jline.terminal.impl.ExternalTerminal;

/**
 * A chat REPL on the embedded model behind JLine's {@link ExternalTerminal} over pipes: the test types bytes as a
 * user's keyboard would send them (arrows, Ctrl-C, Ctrl-D) and reads what the terminal shows.
 */
final class ReplDriver implements AutoCloseable {

    final LlmEngine engine;
    final ChatRepl repl;
    private final PipedOutputStream keyboard = new PipedOutputStream();
    private final ByteArrayOutputStream screen = new ByteArrayOutputStream();
    private final StringWriter errors = new StringWriter();
    private final Thread thread;
    private final ExternalTerminal terminal;
    private volatile Throwable failure;

    /** The embedded model in a {@code context}-token engine, each forward step taking at least {@code stepMillis}. */
    static LlmEngine engine(int context, long stepMillis) {
        LoadedModel m = ModelLoader.load(null);
        int blockSize = 16;
        long blocks = (context + blockSize - 1) / blockSize + 1;
        EngineOptions options = EngineOptions.defaults().withThreads(1).withBlockSize(blockSize)
                .withKvCacheBytes(blocks * blockSize * m.config().kvBytesPerToken(4)).withMaxModelLen(context)
                .withMaxBatchedTokens(Math.min(256, context)).withMaxRunning(1);
        ModelRunnerFactory runners = stepMillis == 0 ? ModelRunnerFactory.CPU
                : (weights, o) -> new ForwardingModelRunner(ModelRunnerFactory.CPU.create(weights, o)) {
                    @Override
                    public float[] forward(BatchInput batch) {
                        try {
                            Thread.sleep(stepMillis);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return delegate.forward(batch);
                    }
                };
        return new LlmEngine(m, options, new SimpleMeterRegistry(), runners);
    }

    ReplDriver(LlmEngine engine, SamplingParams sampling, Path history) throws IOException {
        this(engine, sampling, history, EmbeddedModel.chatTemplate());
    }

    ReplDriver(LlmEngine engine, SamplingParams sampling, Path history, String template) throws IOException {
        this.engine = engine;
        PipedInputStream in = new PipedInputStream(keyboard, 1 << 16);
        terminal = new ExternalTerminal("test", "xterm", in, screen, StandardCharsets.UTF_8);
        terminal.setSize(new org.jline.terminal.Size(100, 40));
        JLineInput input = new JLineInput(terminal, history);
        repl = new ChatRepl(engine, ChatTemplate.compile(template), Map.of("bos_token", "<s>", "eos_token", "</s>"),
                sampling, new Conversation(null), input, terminal.writer(), new PrintWriter(errors, true));
        thread = Thread.ofPlatform().name("repl").start(() -> {
            try {
                repl.run();
            } catch (Throwable t) {
                failure = t;
            } finally {
                input.close();
            }
        });
        // NOTE: keys typed before the line reader has put the terminal in raw mode would go through the cooked line
        // discipline instead (as they would for a user typing ahead), so tests start typing at the prompt.
        awaitScreen(ChatRepl.PROMPT, 1);
    }

    /** Sends keys: text, {@code \r} for Enter, {@code \u0003} for Ctrl-C, {@code \u0004} for Ctrl-D, escapes. */
    void type(String keys) throws IOException {
        keyboard.write(keys.getBytes(StandardCharsets.UTF_8));
        keyboard.flush();
    }

    String screen() {
        return screen.toString(StandardCharsets.UTF_8);
    }

    String errors() {
        return errors.toString();
    }

    /** Waits until the screen shows {@code text} {@code times} times in all. */
    void awaitScreen(String text, int times) {
        await(() -> count(screen(), text) >= times, "the screen to show '" + text + "' " + times + " times");
    }

    void awaitErrors(String text) {
        await(() -> errors().contains(text), "the error stream to show '" + text + "'");
    }

    /** Waits for {@code condition}, failing with what the terminal showed after 20 s. */
    void await(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (failure != null) {
                throw new AssertionError("the REPL failed", failure);
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + "; screen:\n" + screen() + "\nerrors:\n"
                        + errors());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Waits for the REPL to return (after /exit or Ctrl-D). */
    void awaitExit() throws InterruptedException {
        thread.join(Duration.ofSeconds(20));
        if (thread.isAlive()) {
            throw new AssertionError("the REPL did not exit; screen:\n" + screen());
        }
        if (failure != null) {
            throw new AssertionError("the REPL failed", failure);
        }
    }

    static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    @Override
    public void close() throws Exception {
        if (thread.isAlive()) {
            type("\u0004");
            thread.join(Duration.ofSeconds(5));
        }
        engine.close();
    }
}
