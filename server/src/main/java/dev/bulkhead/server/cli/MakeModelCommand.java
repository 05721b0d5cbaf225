package dev.bulkhead.server.cli;

import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.synth.ModelShape;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.synth.RandomCheckpointGenerator;
import dev.bulkhead.model.tensor.DType;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bulkhead make-model}: write a random-weight checkpoint of a real model's shape. */
@Command(name = "make-model", mixinStandardHelpOptions = true,
        description = "Write a Hugging Face checkpoint directory with random weights of a real model's shape, for "
                    + "performance work on shapes that cannot be downloaded (shapes: see --shape).")
final class MakeModelCommand implements Callable<Integer> {

    private static final int EMBEDDED_VOCAB = 512;

    @Spec
    CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "NAME", completionCandidates = ShapeNames.class,
            description = "Model shape: ${COMPLETION-CANDIDATES}.")
    String shape;

    @Option(names = "--dtype", defaultValue = "bf16", paramLabel = "TYPE",
            description = "f32, f16 or bf16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to create.")
    Path out;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Weights seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Copy tokenizer.json and tokenizer_config.json from this directory (default for 512-token "
                    + "shapes: the embedded stories260K tokenizer).")
    Path tokenizer;

    /** Shape names for picocli's help and completion. */
    static final class ShapeNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ModelShapes.names().iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        ModelShape s = ModelShapes.get(shape);
        DType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DType.F32;
            case "f16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype must be f32, f16 or bf16, got " + dtype);
        };
        Path tokenizerDir = tokenizer;
        if (tokenizerDir == null && s.config().vocabSize() == EMBEDDED_VOCAB) {
            // NOTE: tiny test shapes share the embedded model's 512-token vocabulary, so they get a working tokenizer.
            tokenizerDir = EmbeddedModel.extract();
        } else if (tokenizerDir == null) {
            spec.commandLine().getErr().println("note: no tokenizer copied; pass --tokenizer DIR with a tokenizer.json "
                    + "whose ids fit vocab_size " + s.config().vocabSize() + " to make the checkpoint loadable");
        }
        long start = System.nanoTime();
        RandomCheckpointGenerator.generate(s, type, seed, out, tokenizerDir);
        spec.commandLine().getOut().printf("wrote %s (%s, %,d parameters, %s) to %s in %.1f s%n", s.name(), type,
                s.parameterCount(), humanBytes(s.byteSize(type)), out, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static String humanBytes(long b) {
        return b >= 1L << 30 ? String.format("%.2f GiB", b / (double) (1L << 30)) : String.format("%.1f MiB", b / (double) (1L << 20));
    }
}
