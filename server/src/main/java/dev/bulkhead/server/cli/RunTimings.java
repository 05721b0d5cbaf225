package dev.bulkhead.server.cli;

import dev.bulkhead.engine.api.Completion;

/**
 * Prefill and decode speed of one request: prefill is submission to first token (the prompt's forward
 * passes and the first sample), decode is every later token.
 */
record RunTimings(int prefillTokens, double prefillMillis, int decodeTokens, double decodeMillis) {

    static RunTimings of(Completion c) {
        int n = c.tokenIds().length;
        double ttft = n == 0 ? c.totalMillis() : c.timeToFirstTokenMillis();
        return new RunTimings(c.promptTokenIds().length, ttft, Math.max(0, n - 1), c.totalMillis() - ttft);
    }

    double prefillTokensPerSecond() {
        return prefillMillis > 0 ? prefillTokens * 1000.0 / prefillMillis : 0;
    }

    double decodeTokensPerSecond() {
        return decodeMillis > 0 ? decodeTokens * 1000.0 / decodeMillis : 0;
    }
}
