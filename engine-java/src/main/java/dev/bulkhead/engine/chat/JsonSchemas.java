package dev.bulkhead.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.GuidedDecoding;

/** JSON Schemas, as the server's {@code response_format} and tool parameters carry them, as guided decoding. */
public final class JsonSchemas {

    private JsonSchemas() {
    }

    /**
     * JSON matching {@code schema} (a JSON Schema object) as a decoding constraint.
     *
     * @param schema the schema
     * @param field  names the schema in errors
     * @return the compiled constraint
     * @throws InvalidRequestException (naming {@code field}) when the schema is not an object or uses a keyword the
     *                                 guided decoding does not support
     */
    public static GuidedDecoding constraint(JsonNode schema, String field) {
        if (!schema.isObject()) {
            throw new InvalidRequestException(field, field + " must be a JSON Schema object");
        }
        try {
            return new GuidedDecoding.JsonSchema(schema.toString());
        } catch (InvalidRequestException e) {
            throw new InvalidRequestException(field, e.getMessage());
        }
    }
}
