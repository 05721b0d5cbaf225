package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import dev.bulkhead.engine.api.FinishReason;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;

/**
 * A model that cannot call tools replaced by a script: it answers each request with the next scripted text (streamed
 * a few characters at a time) and records the prompts it was given. Everything around it (rendering with the
 * template, tool definitions, reading calls back) is the real mapping code. Its tokenizer has one id per character.
 */
final class ScriptedBackend implements ChatBackend {

    final List<String> prompts = new CopyOnWriteArrayList<>();
    private final Deque<String> answers;
    private final String template;

    ScriptedBackend(String template, String... answers) {
        this.template = template;
        this.answers = new ArrayDeque<>(List.of(answers));
    }

    @Override
    public String defaultModel() {
        return "scripted";
    }

    @Override
    public Optional<ChatTemplateSource> template(String model) {
        return Optional.of(new ChatTemplateSource(template, Map.of()));
    }

    @Override
    public Tokenizer tokenizer(String model) {
        return new CharTokenizer();
    }

    @Override
    public int contextTokens(String model) {
        return 8192;
    }

    private synchronized String next(GenerateRequest request) {
        prompts.add(new CharTokenizer().decode(request.promptTokenIds(), false));
        return answers.isEmpty() ? "(no more answers)" : answers.poll();
    }

    private static Completion completion(GenerateRequest request, String text) {
        return new Completion(request.requestId(), request.promptTokenIds(), text.codePoints().toArray(), text,
                FinishReason.STOP, 1, 1);
    }

    @Override
    public CompletableFuture<Completion> generate(String model, GenerateRequest request) {
        return CompletableFuture.completedFuture(completion(request, next(request)));
    }

    @Override
    public TokenStream stream(String model, GenerateRequest request) {
        String text = next(request);
        List<TokenDelta> deltas = new java.util.ArrayList<>();
        for (int i = 0, n = 0; i < text.length(); i += 4, n++) {
            boolean last = i + 4 >= text.length();
            deltas.add(new TokenDelta(request.requestId(), 'x', text.substring(i, Math.min(text.length(), i + 4)),
                    n, last ? FinishReason.STOP : null));
        }
        lastStream = new RecordingPublisher(deltas);
        return new TokenStream(request.requestId(), lastStream,
                CompletableFuture.completedFuture(completion(request, text)));
    }

    /** The publisher of the last stream, to see the demand it got. */
    volatile RecordingPublisher lastStream;

    /**
     * Delivers its deltas as they are requested, on the requesting thread, and records the demand: how many deltas
     * were ever requested and not yet delivered, and whether the subscriber cancelled.
     */
    static final class RecordingPublisher implements Flow.Publisher<TokenDelta> {
        private final List<TokenDelta> deltas;
        private int delivered;
        private long outstanding;
        long mostOutstanding;
        volatile boolean cancelled;
        private boolean delivering;

        RecordingPublisher(List<TokenDelta> deltas) {
            this.deltas = deltas;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super TokenDelta> s) {
            s.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                    outstanding += n;
                    mostOutstanding = Math.max(mostOutstanding, outstanding);
                    if (delivering) {
                        return;
                    }
                    // NOTE: a loop, not recursion: request() from inside onNext only adds demand.
                    delivering = true;
                    while (outstanding > 0 && !cancelled && delivered < deltas.size()) {
                        outstanding--;
                        s.onNext(deltas.get(delivered++));
                    }
                    delivering = false;
                    if (delivered == deltas.size() && !cancelled) {
                        delivered++;
                        s.onComplete();
                    }
                }

                @Override
                public void cancel() {
                    cancelled = true;
                }
            });
        }

        int delivered() {
            return Math.min(delivered, deltas.size());
        }
    }

    /** One token per character. */
    static final class CharTokenizer implements Tokenizer {
        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            return text.codePoints().toArray();
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return new String(ids, 0, ids.length);
        }

        @Override
        public int vocabSize() {
            return Character.MAX_CODE_POINT + 1;
        }

        @Override
        public String tokenText(int id) {
            return Character.toString(id);
        }

        @Override
        public int tokenId(String token) {
            return token.codePointAt(0);
        }

        @Override
        public int bosId() {
            return -1;
        }

        @Override
        public int eosId() {
            return -1;
        }
    }
}
