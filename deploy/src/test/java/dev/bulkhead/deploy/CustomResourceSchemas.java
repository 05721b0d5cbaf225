package dev.bulkhead.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The vendored CRDs' {@code openAPIV3Schema}s (deploy/kubernetes/crds/), by {@code apiVersion} and {@code kind},
 * as JSON schemas that refuse unknown fields; and the EndpointPickerConfig schema written for our picker configs.
 *
 * <p>NOTE: a structural CRD schema allows any field the API server then prunes (drops silently); strict field
 * validation refuses them instead. JSON Schema allows them unless told, so every object schema that lists its
 * {@code properties} and neither sets {@code additionalProperties} nor
 * {@code x-kubernetes-preserve-unknown-fields} gets {@code additionalProperties: false} here. CEL rules
 * ({@code x-kubernetes-validations}) are not evaluated.
 */
final class CustomResourceSchemas {

    private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder()
            .nullableKeywordEnabled(true).build();
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    private final Map<String, JsonSchema> byKind = new HashMap<>();

    private CustomResourceSchemas() {
    }

    /** Loads every CRD under deploy/kubernetes/crds/. */
    static CustomResourceSchemas vendored() {
        CustomResourceSchemas schemas = new CustomResourceSchemas();
        for (Path file : Manifests.yamlFiles(Manifests.CRDS)) {
            for (Manifests.Document crd : Manifests.read(file)) {
                JsonNode spec = crd.node().path("spec");
                String group = spec.path("group").asText();
                String kind = spec.path("names").path("kind").asText();
                for (JsonNode version : spec.path("versions")) {
                    JsonNode schema = version.path("schema").path("openAPIV3Schema").deepCopy();
                    strict(schema);
                    schemas.byKind.put(group + "/" + version.path("name").asText() + " " + kind,
                            FACTORY.getSchema(schema, CONFIG));
                }
            }
        }
        return schemas;
    }

    /** Whether a CRD defines this document's apiVersion and kind. */
    boolean defines(JsonNode doc) {
        return byKind.containsKey(key(doc));
    }

    /** The schema's complaints about the document, each naming its path; empty when it is valid. */
    List<String> validate(JsonNode doc) {
        JsonSchema schema = byKind.get(key(doc));
        if (schema == null) {
            return List.of("no vendored CRD defines " + key(doc));
        }
        return messages(schema.validate(doc));
    }

    /** The EndpointPickerConfig schema (deploy/src/test/resources). */
    static List<String> validateEndpointPickerConfig(JsonNode config) {
        try (InputStream in = CustomResourceSchemas.class.getResourceAsStream("/endpointpickerconfig.schema.json")) {
            JsonSchema schema = FACTORY.getSchema(Manifests.YAML.readTree(in), CONFIG);
            return messages(schema.validate(config));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> messages(java.util.Set<ValidationMessage> found) {
        return found.stream().map(ValidationMessage::getMessage).sorted().toList();
    }

    private static String key(JsonNode doc) {
        return doc.path("apiVersion").asText() + " " + doc.path("kind").asText();
    }

    private static void strict(JsonNode schema) {
        if (!(schema instanceof ObjectNode node)) {
            return;
        }
        if (node.has("properties") && !node.has("additionalProperties")
                && !node.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
            node.put("additionalProperties", false);
        }
        for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
            JsonNode child = it.next();
            if (child.isArray()) {
                child.forEach(CustomResourceSchemas::strict);
            } else {
                strict(child);
            }
        }
    }
}
