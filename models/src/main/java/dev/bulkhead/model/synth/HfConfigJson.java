package dev.bulkhead.model.synth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.tensor.DType;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code config.json} and {@code generation_config.json} transformers' {@code save_pretrained} writes for a
 * model: keys sorted, indented by two spaces, a trailing newline, and for each family the fields its config
 * class carries (Llama: {@code mlp_bias}, {@code pretraining_tp}; Mistral: {@code sliding_window}; Qwen2/3:
 * {@code use_sliding_window}, {@code max_window_layers}).
 */
final class HfConfigJson {

    private static final ObjectWriter PYTHON_STYLE = pythonStyleWriter();

    private HfConfigJson() {
    }

    /** config.json of {@code config} stored as {@code dtype}. */
    static String config(ModelConfig config, DType dtype) {
        Map<String, Object> c = new TreeMap<>();
        ModelFamily family = config.family();
        c.put("architectures", List.of(architecture(family)));
        c.put("model_type", family.modelType());
        c.put("hidden_size", config.hiddenSize());
        c.put("intermediate_size", config.intermediateSize());
        c.put("num_hidden_layers", config.numLayers());
        c.put("num_attention_heads", config.numHeads());
        c.put("num_key_value_heads", config.numKvHeads());
        // NOTE: Qwen2Config has no head_dim (it is always hidden/heads there); write it only if that would be wrong.
        if (family != ModelFamily.QWEN2 || config.headDim() * config.numHeads() != config.hiddenSize()) {
            c.put("head_dim", config.headDim());
        }
        c.put("vocab_size", config.vocabSize());
        c.put("max_position_embeddings", config.maxPositionEmbeddings());
        // NOTE: via the float's decimal string, so 1e-5f is written as 1.0E-5 rather than 9.999999747378752E-6.
        c.put("rms_norm_eps", Double.parseDouble(Float.toString(config.rmsNormEps())));
        c.put("rope_theta", config.ropeTheta());
        c.put("rope_scaling", ropeScaling(config.ropeScaling()));
        c.put("tie_word_embeddings", config.tieWordEmbeddings());
        if (family == ModelFamily.LLAMA || family == ModelFamily.QWEN3) {
            c.put("attention_bias", config.attentionBias());
        }
        c.put("bos_token_id", config.bosTokenId() >= 0 ? config.bosTokenId() : null);
        c.put("eos_token_id", eos(config.eosTokenIds()));
        c.put("torch_dtype", torchDtype(dtype));
        c.put("hidden_act", "silu");
        c.put("initializer_range", RandomWeights.STD);
        c.put("attention_dropout", 0.0);
        c.put("use_cache", true);
        Integer window = config.slidingWindow() > 0 ? config.slidingWindow() : null;
        switch (family) {
            case LLAMA -> {
                c.put("mlp_bias", false);
                c.put("pretraining_tp", 1);
            }
            case MISTRAL -> c.put("sliding_window", window);
            case QWEN2, QWEN3 -> {
                c.put("sliding_window", window);
                c.put("use_sliding_window", window != null);
                c.put("max_window_layers", config.numLayers());
            }
        }
        return write(c);
    }

    /** generation_config.json derived from the model config, as transformers derives it. */
    static String generationConfig(ModelConfig config) {
        Map<String, Object> g = new TreeMap<>();
        g.put("_from_model_config", true);
        g.put("bos_token_id", config.bosTokenId() >= 0 ? config.bosTokenId() : null);
        g.put("eos_token_id", eos(config.eosTokenIds()));
        return write(g);
    }

    static String architecture(ModelFamily family) {
        return switch (family) {
            case LLAMA -> "LlamaForCausalLM";
            case MISTRAL -> "MistralForCausalLM";
            case QWEN2 -> "Qwen2ForCausalLM";
            case QWEN3 -> "Qwen3ForCausalLM";
        };
    }

    static String torchDtype(DType dtype) {
        return switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalArgumentException("checkpoints are written as F32, F16 or BF16, not " + dtype);
        };
    }

    private static Object eos(int[] ids) {
        if (ids.length == 0) {
            return null;
        }
        return ids.length == 1 ? (Object) ids[0] : Arrays.stream(ids).boxed().toList();
    }

    private static Map<String, Object> ropeScaling(RopeScaling s) {
        if (s.type() == RopeScaling.Type.NONE) {
            return null;
        }
        Map<String, Object> m = new TreeMap<>();
        m.put("factor", s.factor());
        if (s.type() == RopeScaling.Type.LLAMA3) {
            m.put("rope_type", "llama3");
            m.put("low_freq_factor", s.lowFreqFactor());
            m.put("high_freq_factor", s.highFreqFactor());
            m.put("original_max_position_embeddings", s.originalMaxPositionEmbeddings());
        } else {
            m.put("rope_type", "linear");
        }
        return m;
    }

    private static String write(Map<String, Object> json) {
        try {
            return PYTHON_STYLE.writeValueAsString(new LinkedHashMap<>(json)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize config", e);
        }
    }

    /** Python's {@code json.dumps(indent=2)} layout: {@code "key": value}, one array element per line. */
    private static ObjectWriter pythonStyleWriter() {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator(""));
        printer.indentObjectsWith(indenter);
        printer.indentArraysWith(indenter);
        return new ObjectMapper().writer(printer);
    }
}
