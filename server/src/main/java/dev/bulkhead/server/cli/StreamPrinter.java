package dev.bulkhead.server.cli;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import java.io.PrintWriter;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;

/** Runs one request on an engine, printing its text as it streams, and returns the completion. */
final class StreamPrinter {

    private StreamPrinter() {
    }

    static Completion run(LlmEngine engine, GenerateRequest request, PrintWriter out) throws InterruptedException {
        TokenStream stream = engine.stream(request);
        CountDownLatch delivered = new CountDownLatch(1);
        stream.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(TokenDelta d) {
                if (out != null && !d.text().isEmpty()) {
                    out.print(d.text());
                    out.flush();
                }
            }

            @Override
            public void onError(Throwable t) {
                delivered.countDown();
            }

            @Override
            public void onComplete() {
                delivered.countDown();
            }
        });
        try {
            Completion c = stream.completion().get();
            delivered.await();
            return c;
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        }
    }
}
