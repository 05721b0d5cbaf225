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
import java.util.function.BooleanSupplier;

/** Runs one request on an engine, printing its text as it streams, and returns the completion. */
public final class StreamPrinter {

    private StreamPrinter() {
    }

    /**
     * Prints each delta's text to {@code out} (when there is one and {@code muted} says no) as it arrives, flushed;
     * the latch opens when the stream has ended, so a caller can wait for the last deltas after the completion.
     */
    public static CountDownLatch print(TokenStream stream, PrintWriter out, BooleanSupplier muted) {
        CountDownLatch delivered = new CountDownLatch(1);
        stream.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(TokenDelta d) {
                if (out != null && !d.text().isEmpty() && !muted.getAsBoolean()) {
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
        return delivered;
    }

    static Completion run(LlmEngine engine, GenerateRequest request, PrintWriter out) throws InterruptedException {
        TokenStream stream = engine.stream(request);
        CountDownLatch delivered = print(stream, out, () -> false);
        try {
            Completion c = stream.completion().get();
            delivered.await();
            return c;
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        }
    }
}
