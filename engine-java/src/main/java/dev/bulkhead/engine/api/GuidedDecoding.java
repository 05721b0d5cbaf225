package dev.bulkhead.engine.api;

import dev.bulkhead.engine.internal.guided.JsonGrammar;
import java.util.Objects;

/**
 * A constraint on what a request may generate, OpenAI's {@code response_format}: the sampler only ever
 * picks tokens that keep the output a prefix of a valid document, and EOS only once it is complete. The
 * output is then valid JSON whenever the request finishes with reason STOP on EOS; it is a truncated prefix
 * when it finishes on {@code max_tokens}, and a stop string that matches inside the JSON cuts it wherever it
 * matched. Log-probabilities stay those of the unconstrained model.
 */
public sealed interface GuidedDecoding {

    /** The grammar this constraint compiles to. */
    JsonGrammar grammar();

    /** {@code {"type": "json_object"}}: any JSON object. */
    record JsonObject() implements GuidedDecoding {
        @Override
        public JsonGrammar grammar() {
            return JsonGrammar.anyObject();
        }
    }

    /**
     * {@code {"type": "json_schema", "json_schema": {"schema": ...}}}: JSON matching the schema, as far as its
     * supported subset goes: {@code type} (one or a list), object {@code properties} / {@code required} /
     * {@code additionalProperties} (declared properties are generated in declared order, extra ones never),
     * array {@code items} / {@code minItems} / {@code maxItems}, {@code enum}, {@code const}, {@code anyOf} /
     * {@code oneOf} of alternatives of different JSON types, where several objects must be a discriminated union
     * (each one's first declared property has the same name, is required, and is a {@code const} or one-value
     * {@code enum} of a value no other alternative has, as in {@code {"name": "tool", "arguments": ...}}),
     * single-element {@code allOf}, local {@code $ref} ({@code #/$defs/...}, recursion included); annotations
     * such as {@code title} and {@code description} are ignored. Every other keyword ({@code pattern}, {@code format}, {@code minLength}, {@code minimum}, ...)
     * is rejected by name rather than silently ignored.
     */
    final class JsonSchema implements GuidedDecoding {

        private final String schemaJson;
        // NOTE: compiled once, here: validating the schema already compiles it, and every guide reuses it.
        private final JsonGrammar grammar;

        /**
         * Compiles the schema.
         *
         * @param schemaJson the schema as JSON text
         * @throws dev.bulkhead.engine.InvalidRequestException (field {@code response_format}) when the schema is
         *                                                     not valid JSON or uses something unsupported
         */
        public JsonSchema(String schemaJson) {
            this.schemaJson = Objects.requireNonNull(schemaJson, "schemaJson");
            this.grammar = JsonGrammar.ofSchema(schemaJson);
        }

        /** The schema as JSON text. */
        public String schemaJson() {
            return schemaJson;
        }

        @Override
        public JsonGrammar grammar() {
            return grammar;
        }

        /** Equal when the schema texts are: the grammar is a function of the text. */
        @Override
        public boolean equals(Object o) {
            return o instanceof JsonSchema other && schemaJson.equals(other.schemaJson);
        }

        @Override
        public int hashCode() {
            return schemaJson.hashCode();
        }

        @Override
        public String toString() {
            return "JsonSchema[schemaJson=" + schemaJson + "]";
        }
    }
}
