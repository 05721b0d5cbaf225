package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.chat.JsonSchemas;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * OpenAI's {@code response_format} on chat, and the constraint a forced tool call needs, as the engine's
 * {@link GuidedDecoding}: {@code text} is free text, {@code json_object} any JSON object, {@code json_schema} JSON
 * matching the schema's supported subset (an unsupported keyword is a 400 naming it, never silently ignored).
 */
final class ResponseFormats {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final String FIELD = "response_format";

    private ResponseFormats() {
    }

    /** The constraint {@code response_format} asks for; null for free text (absent or {@code text}). */
    static GuidedDecoding parse(JsonNode format) {
        if (format == null || format.isNull()) {
            return null;
        }
        if (!format.isObject() || !format.path("type").isTextual()) {
            throw ApiException.badRequest(FIELD, "response_format must be {\"type\": \"text\" | \"json_object\" | "
                    + "\"json_schema\", ...}");
        }
        String type = format.get("type").asText();
        switch (type) {
            case "text" -> {
                RequestParser.knownFields(format, FIELD, Set.of("type"));
                return null;
            }
            case "json_object" -> {
                RequestParser.knownFields(format, FIELD, Set.of("type"));
                return new GuidedDecoding.JsonObject();
            }
            case "json_schema" -> {
                RequestParser.knownFields(format, FIELD, Set.of("type", "json_schema"));
                JsonNode spec = format.get("json_schema");
                if (spec == null || !spec.isObject()) {
                    throw ApiException.badRequest(FIELD + ".json_schema", "json_schema must be an object with "
                            + "'name' and 'schema'");
                }
                RequestParser.knownFields(spec, FIELD + ".json_schema", Set.of("name", "description", "schema",
                        "strict"));
                if (!spec.path("name").isTextual() || !NAME.matcher(spec.get("name").asText()).matches()) {
                    throw ApiException.badRequest(FIELD + ".json_schema.name", "json_schema.name must be 1 to 64 of "
                            + "a-z, A-Z, 0-9, _ and -");
                }
                JsonNode schema = spec.get("schema");
                if (schema == null || schema.isNull()) {
                    return new GuidedDecoding.JsonObject();
                }
                return schema(schema, FIELD + ".json_schema.schema");
            }
            default -> throw ApiException.badRequest(FIELD + ".type", "response_format.type must be 'text', "
                    + "'json_object' or 'json_schema', got '" + type + "'");
        }
    }

    /** JSON matching {@code schema} (a JSON Schema object); {@code field} names it in errors. */
    static GuidedDecoding schema(JsonNode schema, String field) {
        try {
            return JsonSchemas.constraint(schema, field);
        } catch (InvalidRequestException e) {
            throw ApiException.badRequest(e.field(), e.getMessage());
        }
    }
}
