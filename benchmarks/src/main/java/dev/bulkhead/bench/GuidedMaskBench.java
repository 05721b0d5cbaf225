package dev.bulkhead.bench;

import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.internal.guided.JsonGuide;
import dev.bulkhead.engine.internal.guided.JsonGuideFactory;
import dev.bulkhead.model.tokenizer.HfTokenizer;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What guided decoding ({@code response_format}) costs a decode step: the time to compute one request's mask of
 * allowed tokens, uncached, in a few typical states, on real vocabularies. Each sample builds a fresh guide, feeds it
 * the state's prefix and times its first {@code allowedTokens()} (a repeated state would be a cache hit). Also the
 * one-off cost of building the vocabulary and its trie, paid by an engine's first guided request.
 *
 * <pre>
 * java -cp benchmarks/target/bulkhead-benchmarks.jar dev.bulkhead.bench.GuidedMaskBench \
 *     ../shared/models/llama2-tokenizer ../shared/models/llama3.1-tokenizer ../shared/models/qwen3-tokenizer
 * </pre>
 */
public final class GuidedMaskBench {

    private static final int SAMPLES = 200;
    private static final GuidedDecoding SCHEMA = new GuidedDecoding.JsonSchema("""
            {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
             "mood": {"enum": ["happy", "sad"]}}, "required": ["name", "age", "mood"]}""");

    private GuidedMaskBench() {
    }

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: GuidedMaskBench TOKENIZER_DIR...");
            System.exit(2);
        }
        // State name -> the document prefix that reaches it.
        Map<String, String> states = new LinkedHashMap<>();
        states.put("after '{' (a key must follow)", "{");
        states.put("inside a string value", "{\"name\": \"Li");
        states.put("inside a number", "{\"name\": \"Lily\", \"age\": 1");
        states.put("before an enum value", "{\"name\": \"Lily\", \"age\": 12, \"mood\": ");
        System.out.printf("%-22s %-40s %12s %12s%n", "vocabulary", "state", "median ms", "p90 ms");
        for (String dir : args) {
            Path file = Path.of(dir, HfTokenizer.FILE);
            if (!Files.exists(file)) {
                System.err.println("skipping " + dir + ": no " + HfTokenizer.FILE);
                continue;
            }
            try (Tokenizer t = HfTokenizer.load(file, -1, -1)) {
                String name = Path.of(dir).getFileName() + " (" + t.vocabSize() / 1000 + "k)";
                JsonGuideFactory factory = JsonGuideFactory.of(t, t.vocabSize());
                long start = System.nanoTime();
                factory.create(SCHEMA, new int[] {t.eosId()});
                System.out.printf("%-22s %-40s %12.1f%n", name, "vocabulary + trie build (once)",
                        (System.nanoTime() - start) / 1e6);
                for (Map.Entry<String, String> s : states.entrySet()) {
                    int[] prefix = t.encode(s.getValue(), false);
                    double[] ms = new double[SAMPLES];
                    for (int i = 0; i < SAMPLES; i++) {
                        JsonGuide g = factory.create(SCHEMA, new int[] {t.eosId()});
                        for (int id : prefix) {
                            g.accept(id);
                        }
                        long t0 = System.nanoTime();
                        long[] mask = g.allowedTokens();
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                        if (Long.bitCount(mask[0]) + Arrays.stream(mask).skip(1).map(Long::bitCount).sum() < 2) {
                            throw new IllegalStateException("the prefix of '" + s.getKey() + "' left the grammar");
                        }
                    }
                    Arrays.sort(ms);
                    System.out.printf("%-22s %-40s %12.3f %12.3f%n", name, s.getKey(), ms[SAMPLES / 2],
                            ms[SAMPLES * 9 / 10]);
                }
            }
        }
    }
}
