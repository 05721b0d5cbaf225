package dev.bulkhead.engine.internal.guided;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonSchemaGrammarTest {

    private static final String PERSON = """
            {"type": "object", "title": "Person",
             "properties": {
               "name": {"type": "string", "description": "full name"},
               "age": {"type": "integer"},
               "height": {"type": "number"},
               "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
               "role": {"enum": ["admin", "user"]},
               "nick": {"type": ["string", "null"]},
               "ok": {"type": "boolean"}
             },
             "required": ["name", "age", "role"],
             "additionalProperties": false}""";

    static boolean accepts(String schema, String doc) {
        JsonAutomaton a = new JsonAutomaton(JsonGrammar.ofSchema(schema));
        return a.advance(doc.getBytes(StandardCharsets.UTF_8)) && a.isComplete();
    }

    @Test
    void conformingDocumentsAreAccepted() {
        assertThat(accepts(PERSON, "{\"name\": \"Ann\", \"age\": 31, \"role\": \"admin\"}")).isTrue();
        assertThat(accepts(PERSON, "{\"name\":\"A\",\"age\":-4,\"height\":1.5e2,\"tags\":[\"x\",\"y\"],"
                + "\"role\":\"user\",\"nick\":null,\"ok\":false}")).isTrue();
        assertThat(accepts(PERSON, "{\"name\": \"\", \"age\": 0, \"tags\": [\"\"], \"role\": \"user\", "
                + "\"nick\": \"Bo\"}")).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"age\": 31, \"name\": \"Ann\", \"role\": \"admin\"}",         // declared order only
        "{\"name\": \"Ann\", \"role\": \"admin\"}",                      // required age missing
        "{\"name\": \"Ann\", \"age\": 31}",                              // required role missing
        "{\"name\": \"Ann\", \"age\": 3.5, \"role\": \"admin\"}",        // integer with a fraction
        "{\"name\": \"Ann\", \"age\": 1e3, \"role\": \"admin\"}",        // integer with an exponent
        "{\"name\": 5, \"age\": 31, \"role\": \"admin\"}",               // wrong type
        "{\"name\": \"Ann\", \"age\": 31, \"role\": \"root\"}",          // not in enum
        "{\"name\": \"Ann\", \"age\": 31, \"role\": \"admin\", \"x\": 1}", // not declared
        "{\"name\": \"Ann\", \"age\": 31, \"tags\": [], \"role\": \"admin\"}",  // minItems
        "{\"name\": \"Ann\", \"age\": 31, \"tags\": [\"a\", \"b\", \"c\"], \"role\": \"admin\"}", // maxItems
        "{\"name\": \"Ann\", \"age\": 31, \"role\": \"admin\", \"ok\": null}", // boolean
        "{\"name\": \"Ann\", \"name\": \"Bo\", \"age\": 31, \"role\": \"admin\"}", // repeated key
        "[\"Ann\"]"})
    void nonConformingDocumentsAreRejected(String doc) {
        assertThat(accepts(PERSON, doc)).as(doc).isFalse();
    }

    @Test
    void keysSharingPrefixesAreToldApart() {
        String schema = "{\"properties\": {\"ab\": {\"type\": \"integer\"}, \"a\": {\"type\": \"integer\"}, "
                + "\"abc\": {\"type\": \"integer\"}}}";
        assertThat(accepts(schema, "{\"a\": 1}")).isTrue();
        assertThat(accepts(schema, "{\"ab\": 1, \"a\": 2, \"abc\": 3}")).isTrue();
        assertThat(accepts(schema, "{\"abc\": 3}")).isTrue();
        assertThat(accepts(schema, "{\"abc\": 3, \"a\": 2}")).isFalse();
        assertThat(accepts(schema, "{\"abd\": 3}")).isFalse();
        assertThat(accepts(schema, "{}")).isTrue();
    }

    @Test
    void enumsOfMixedValuesAndConst() {
        String schema = "{\"enum\": [1, 12, \"x\", null, {\"k\": [true]}]}";
        for (String ok : new String[] {"1", "12", "\"x\"", "null", "{\"k\":[true]}"}) {
            assertThat(accepts(schema, ok)).as(ok).isTrue();
        }
        for (String bad : new String[] {"123", "2", "\"y\"", "true", "{\"k\": [true]}"}) {
            assertThat(accepts(schema, bad)).as(bad).isFalse();
        }
        assertThat(accepts("{\"const\": \"é\"}", "\"é\"")).isTrue();
        assertThat(accepts("{\"const\": \"é\"}", "\"e\"")).isFalse();
    }

    @Test
    void anyOfOfDifferentTypesAndRecursiveRefs() {
        String tree = """
                {"$defs": {"node": {"type": "object",
                   "properties": {"v": {"type": "integer"},
                                  "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                                  "note": {"anyOf": [{"type": "string"}, {"type": "null"}, {"const": "n/a"}]}},
                   "required": ["v"]}},
                 "$ref": "#/$defs/node"}""";
        assertThat(accepts(tree, "{\"v\": 1, \"kids\": [{\"v\": 2}, {\"v\": 3, \"kids\": []}], \"note\": null}")).isTrue();
        assertThat(accepts(tree, "{\"v\": 1, \"kids\": [{\"kids\": []}]}")).isFalse();
        assertThat(accepts(tree, "{\"v\": 1, \"note\": \"hi\"}")).isTrue();
        assertThat(accepts(tree, "{\"v\": 1, \"note\": 3}")).isFalse();
    }

    @Test
    void objectsWithoutPropertiesFollowAdditionalProperties() {
        assertThat(accepts("{\"type\": \"object\"}", "{\"any\": [1, {\"x\": null}]}")).isTrue();
        assertThat(accepts("{\"type\": \"object\", \"additionalProperties\": false}", "{}")).isTrue();
        assertThat(accepts("{\"type\": \"object\", \"additionalProperties\": false}", "{\"a\": 1}")).isFalse();
        String ints = "{\"type\": \"object\", \"additionalProperties\": {\"type\": \"integer\"}}";
        assertThat(accepts(ints, "{\"a\": 1, \"b\": 2}")).isTrue();
        assertThat(accepts(ints, "{\"a\": \"1\"}")).isFalse();
    }

    @Test
    void escapedKeysMustBeWrittenAsJacksonWritesThem() {
        String schema = "{\"properties\": {\"a\\\"b\": {\"type\": \"null\"}}, \"required\": [\"a\\\"b\"]}";
        assertThat(accepts(schema, "{\"a\\\"b\": null}")).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"type\": \"string\", \"pattern\": \"^a\"}|'pattern'",
        "{\"type\": \"string\", \"format\": \"date-time\"}|'format'",
        "{\"type\": \"string\", \"minLength\": 2}|'minLength'",
        "{\"type\": \"integer\", \"minimum\": 0}|'minimum'",
        "{\"type\": \"array\", \"prefixItems\": []}|'prefixItems'",
        "{\"type\": \"array\", \"uniqueItems\": true}|'uniqueItems'",
        "{\"not\": {}}|'not'",
        "{\"properties\": {\"a\": {}}, \"required\": [\"b\"]}|'b'",
        "{\"anyOf\": [{\"type\": \"object\"}, {\"properties\": {\"a\": {}}}]}|discriminated union",
        "{\"anyOf\": [{\"type\": \"object\"}, {\"enum\": [{\"a\": 1}]}]}|overlap",
        "{\"allOf\": [{}, {}]}|allOf",
        "{\"$ref\": \"other.json#/x\"}|local",
        "{\"$ref\": \"#/$defs/missing\"}|points to nothing",
        "{\"type\": \"array\", \"minItems\": 3, \"maxItems\": 2}|minItems 3",
        "{\"enum\": []}|non-empty",
        "{\"type\": \"strin\"}|'strin'",
        "not json|not valid JSON",
        "false|matches nothing"})
    void unsupportedOrInvalidSchemasAreRejectedByName(String schema, String mention) {
        assertThatThrownBy(() -> JsonGrammar.ofSchema(schema))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.field()).isEqualTo("response_format");
                    assertThat(e.getMessage()).contains(mention);
                });
    }
}
