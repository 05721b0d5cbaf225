package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The last good answer per (alias, prompt, max_tokens), least recently used evicted: the end of a fallback chain
 * (a stale but real answer beats an error; it is always marked degraded).
 */
final class AnswerCache {

    private final int capacity;
    private final Map<String, Completion> entries;

    AnswerCache(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Completion> eldest) {
                return size() > AnswerCache.this.capacity;
            }
        };
    }

    synchronized void put(String alias, GenerateRequest r, Completion c) {
        entries.put(key(alias, r), c);
    }

    synchronized Optional<Completion> get(String alias, GenerateRequest r) {
        return Optional.ofNullable(entries.get(key(alias, r)));
    }

    private static String key(String alias, GenerateRequest r) {
        String prompt = r.prompt() != null ? "t:" + r.prompt() : "i:" + Arrays.toString(r.promptTokenIds());
        return alias + '\u0000' + r.sampling().maxTokens() + '\u0000' + prompt;
    }
}
