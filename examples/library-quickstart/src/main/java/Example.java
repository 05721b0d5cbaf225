import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

public class Example {
    public static void main(String[] args) throws Exception {
        EngineOptions options = EngineOptions.defaults()   // all cores, 16-token blocks, KV pool sized at start
                .withKvCacheBytes(64L << 20)               // or fixed by you; either way nothing grows later
                .withMaxRunning(32);
        // null = the embedded stories260K; or a HF directory, a .gguf or a llama2.c .bin
        try (LlmEngine engine = LlmEngine.open(null, options)) {
            // 1. A future for the whole completion.
            SamplingParams sampling = SamplingParams.builder()
                    .temperature(0.8f).topP(0.95f).seed(42L).maxTokens(128).stop("The end").build();
            CompletableFuture<Completion> story = engine.generate(GenerateRequest.of("Once upon a time", sampling));
            System.out.println(story.join().text());

            // 2. A stream of deltas with back-pressure, a priority and a deadline.
            TokenStream stream = engine.stream(GenerateRequest.of("The dog", SamplingParams.greedy(64))
                    .withRequestId("dog-1").withPriority(0).withDeadline(Instant.now().plusSeconds(10)));
            stream.subscribe(new Flow.Subscriber<TokenDelta>() {
                private Flow.Subscription subscription;
                public void onSubscribe(Flow.Subscription s) { subscription = s; s.request(8); }
                public void onNext(TokenDelta d) { System.out.print(d.text()); subscription.request(1); }
                public void onError(Throwable t) { t.printStackTrace(); }
                public void onComplete() { System.out.println(); }
            });
            System.out.println(stream.completion().join().finishReason()); // STOP, LENGTH or ABORT

            // 3. Cancel: by future (story.cancel(true)), by subscription (cancel()), or by id while it runs.
            CompletableFuture<Completion> cat = engine.generate(GenerateRequest.of("The cat", SamplingParams.greedy(400))
                    .withRequestId("cat-1"));
            engine.cancel("cat-1");
            System.out.println(cat.join().finishReason()); // ABORT, with what it had produced

            // 4. Bad input is rejected before anything is queued, naming the field.
            try {
                engine.generate(GenerateRequest.ofTokens(new int[0], SamplingParams.greedy(4)));
            } catch (InvalidRequestException e) {
                System.out.println(e.field() + ": " + e.getMessage()); // prompt: prompt is empty: ...
            }
        } // close(): aborts what is still in flight and frees the model; shutdown(Duration) drains first
    }
}
