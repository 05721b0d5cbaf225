package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.tokenizer.Tokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A prompt tokenized for a caller on a virtual thread (a router's chain, a Loom server's handler) is tokenized
 * on one of the engine's platform threads, so the native call never pins the caller's carrier; a platform caller
 * tokenizes on its own thread.
 */
class OffCarrierTest {

    /** Forwards to the model's tokenizer and records the thread of every encode. */
    private record RecordingTokenizer(Tokenizer delegate, List<Thread> encoders) implements Tokenizer {
        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            encoders.add(Thread.currentThread());
            return delegate.encode(text, addSpecialTokens);
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return delegate.decode(ids, skipSpecialTokens);
        }

        @Override
        public int vocabSize() {
            return delegate.vocabSize();
        }

        @Override
        public String tokenText(int id) {
            return delegate.tokenText(id);
        }

        @Override
        public int tokenId(String token) {
            return delegate.tokenId(token);
        }

        @Override
        public int bosId() {
            return delegate.bosId();
        }

        @Override
        public int eosId() {
            return delegate.eosId();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    @Test
    void aVirtualCallersPromptIsTokenizedOnAPlatformThreadOfTheEngine() throws Exception {
        LoadedModel m = ModelLoader.load(null);
        List<Thread> encoders = new CopyOnWriteArrayList<>();
        LoadedModel recorded = new LoadedModel(m.origin(), m.format(), m.config(), m.weights(),
                new RecordingTokenizer(m.tokenizer(), encoders), m.chatTemplate(), m.specialTokens(), m.source(),
                m.loadMillis());
        SamplingParams p = SamplingParams.greedy(4).toBuilder().ignoreEos(true).build();
        try (LlmEngine engine = new LlmEngine("prep", recorded, EngineOptions.defaults().withThreads(1)
                .withMaxModelLen(128), new SimpleMeterRegistry(), ModelRunnerFactory.CPU)) {
            Completion[] fromVirtual = new Completion[1];
            Thread v = Thread.ofVirtual().start(() -> fromVirtual[0] = engine.generate(
                    GenerateRequest.of("Once upon a time", p)).join());
            v.join();
            assertThat(fromVirtual[0].tokenIds()).hasSize(4);
            assertThat(encoders).hasSize(1);
            assertThat(encoders.getFirst().isVirtual()).isFalse();
            assertThat(encoders.getFirst().getName()).startsWith("bulkhead-prepare-prep-");

            Completion fromPlatform = engine.generate(GenerateRequest.of("Once upon a time", p)).join();
            assertThat(fromPlatform.tokenIds()).containsExactly(fromVirtual[0].tokenIds());
            assertThat(encoders.get(1)).isSameAs(Thread.currentThread());
        }
    }
}
