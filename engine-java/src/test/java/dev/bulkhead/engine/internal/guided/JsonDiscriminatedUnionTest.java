package dev.bulkhead.engine.internal.guided;

import static dev.bulkhead.engine.internal.guided.JsonSchemaGrammarTest.accepts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** anyOf/oneOf of objects told apart by a constant first property, as OpenAI tool calls are. */
class JsonDiscriminatedUnionTest {

    private static final String WEATHER = """
            {"type": "object", "properties": {"name": {"const": "get_weather"}, "arguments": {"type": "object",
              "properties": {"city": {"type": "string"}}, "required": ["city"]}},
             "required": ["name", "arguments"], "additionalProperties": false}""";
    private static final String TIME = """
            {"type": "object", "properties": {"name": {"const": "get_time"}, "arguments": {"type": "object",
              "properties": {"tz": {"type": "string"}}, "required": ["tz"]}},
             "required": ["name", "arguments"], "additionalProperties": false}""";
    private static final String TOOLS = "{\"anyOf\": [" + WEATHER + ", " + TIME + "]}";

    /**
     * A union over {@code key} whose i-th alternative has {@code key} = {@code consts[i]} then a required
     * integer property named after the constant, so a document shows which alternative accepted it.
     */
    private static String union(String combinator, String key, String... consts) {
        List<String> alternatives = new ArrayList<>();
        for (String c : consts) {
            alternatives.add("{\"type\": \"object\", \"properties\": {\"" + key + "\": {\"const\": \"" + c + "\"}, \"p_"
                    + c + "\": {\"type\": \"integer\"}}, \"required\": [\"" + key + "\", \"p_" + c + "\"]}");
        }
        return "{\"" + combinator + "\": [" + String.join(", ", alternatives) + "]}";
    }

    private static String doc(String key, String value, String property) {
        return "{\"" + key + "\": \"" + value + "\", \"p_" + property + "\": 7}";
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
        "{\"name\":\"get_time\",\"arguments\":{\"tz\":\"UTC\"}}",
        "{ \"name\" : \"get_time\" , \"arguments\" : { \"tz\" : \"Europe/Oslo\" } }",
        "{\n  \"name\": \"get_weather\",\n  \"arguments\": {\n   \"city\": \"Rome\"\n  }\n}",
        "\t{\"name\":\t\"get_weather\",\r\n\"arguments\": {\"city\": \"\"}} "})
    void eachAlternativeIsAccepted(String doc) {
        assertThat(accepts(TOOLS, doc.strip())).as(doc).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"name\": \"get_date\", \"arguments\": {\"tz\": \"UTC\"}}",                // unknown name
        "{\"name\": \"get_\", \"arguments\": {\"tz\": \"UTC\"}}",                    // a prefix of both names
        "{\"name\": \"get_timer\", \"arguments\": {\"tz\": \"UTC\"}}",               // longer than a name
        "{\"name\": \"get_weather\", \"arguments\": {\"tz\": \"UTC\"}}",             // the other tool's arguments
        "{\"name\": \"get_time\", \"arguments\": {\"city\": \"Paris\"}}",
        "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\", \"city\": \"Paris\"}}",
        "{\"name\": \"get_time\"}",                                                  // arguments missing
        "{\"name\": \"get_time\", \"arguments\": {}}",                               // its required tz missing
        "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}, \"x\": 1}",      // extra key
        "{\"name\": \"get_time\", \"x\": 1, \"arguments\": {\"tz\": \"UTC\"}}",
        "{\"arguments\": {\"tz\": \"UTC\"}, \"name\": \"get_time\"}",                // discriminator not first
        "{\"name\": \"get_time\", \"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}",
        "{\"name\": 1, \"arguments\": {\"tz\": \"UTC\"}}",
        "{}",
        "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}",                 // unclosed
        "[{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}]",
        "null"})
    void documentsOfNoAlternativeAreRejected(String doc) {
        assertThat(accepts(TOOLS, doc)).as(doc).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a,ab", "ab,a", "get_weather,get_weather_hourly", "get_weather_hourly,get_weather",
        "x,xy,xyz"})
    void constantsSharingAPrefixAreToldApartWhenTheyEnd(String list) {
        String[] consts = list.split(",");
        for (String combinator : List.of("anyOf", "oneOf")) {
            String schema = union(combinator, "t", consts);
            for (String value : consts) {
                for (String property : consts) {
                    assertThat(accepts(schema, doc("t", value, property))).as("%s %s %s", schema, value, property)
                            .isEqualTo(value.equals(property));
                }
                assertThat(accepts(schema, doc("t", value + "z", value))).isFalse();
                assertThat(accepts(schema, doc("t", value.substring(0, value.length() - 1), value))).isFalse();
            }
        }
    }

    @Test
    void theAlternativeIsDecidedOnlyWhenTheValueCloses() {
        String schema = union("anyOf", "t", "a", "ab");
        JsonAutomaton a = new JsonAutomaton(JsonGrammar.ofSchema(schema));
        assertThat(a.advance("{\"t\": \"a".getBytes(StandardCharsets.UTF_8))).isTrue();
        JsonAutomaton longer = a.copy();
        assertThat(a.advance("\", \"p_a\": 1}".getBytes(StandardCharsets.UTF_8)) && a.isComplete()).isTrue();
        assertThat(longer.advance("b\", \"p_ab\": 1}".getBytes(StandardCharsets.UTF_8)) && longer.isComplete())
                .isTrue();
    }

    @Test
    void discriminatorsMayBeOneValueEnumsOfAnyJsonValue() {
        String schema = """
                {"oneOf": [
                  {"properties": {"v": {"enum": [1]}, "n": {"type": "integer"}}, "required": ["v", "n"]},
                  {"properties": {"v": {"const": 12}, "s": {"type": "string"}}, "required": ["v", "s"]},
                  {"properties": {"v": {"type": "null"}}, "required": ["v"]}]}""";
        assertThat(accepts(schema, "{\"v\": 1, \"n\": 2}")).isTrue();
        assertThat(accepts(schema, "{\"v\": 12, \"s\": \"x\"}")).isTrue();
        assertThat(accepts(schema, "{\"v\": null}")).isTrue();
        assertThat(accepts(schema, "{\"v\": 12, \"n\": 2}")).isFalse();
        assertThat(accepts(schema, "{\"v\": 1, \"s\": \"x\"}")).isFalse();
        assertThat(accepts(schema, "{\"v\": 123, \"n\": 2}")).isFalse();
        assertThat(accepts(schema, "{\"v\": null, \"n\": 2}")).isFalse();
    }

    @Test
    void optionalPropertiesAfterTheDiscriminatorStayOptional() {
        String schema = """
                {"anyOf": [
                  {"properties": {"k": {"const": "a"}, "x": {"type": "integer"}, "y": {"type": "integer"}},
                   "required": ["k"]},
                  {"properties": {"k": {"const": "b"}, "z": {"type": "integer"}}, "required": ["k", "z"]}]}""";
        assertThat(accepts(schema, "{\"k\": \"a\"}")).isTrue();
        assertThat(accepts(schema, "{\"k\": \"a\", \"y\": 1}")).isTrue();
        assertThat(accepts(schema, "{\"k\": \"a\", \"x\": 1, \"y\": 2}")).isTrue();
        assertThat(accepts(schema, "{\"k\": \"b\"}")).isFalse();
        assertThat(accepts(schema, "{\"k\": \"b\", \"z\": 1}")).isTrue();
        assertThat(accepts(schema, "{\"k\": \"a\", \"z\": 1}")).isFalse();
    }

    @Test
    void unionsNestInArraysPropertiesAndRefs() {
        String call1 = "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}";
        String call2 = "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}}";
        String wrong = "{\"name\": \"get_weather\", \"arguments\": {\"tz\": \"UTC\"}}";
        String array = "{\"type\": \"array\", \"items\": " + TOOLS + ", \"minItems\": 1}";
        assertThat(accepts(array, "[" + call1 + ", " + call2 + ", " + call1 + "]")).isTrue();
        assertThat(accepts(array, "[" + call1 + ", " + wrong + "]")).isFalse();
        assertThat(accepts(array, "[]")).isFalse();

        String property = "{\"type\": \"object\", \"properties\": {\"calls\": " + array + ", \"done\": {\"type\": "
                + "\"boolean\"}}, \"required\": [\"calls\", \"done\"]}";
        assertThat(accepts(property, "{\"calls\": [" + call2 + "], \"done\": true}")).isTrue();
        assertThat(accepts(property, "{\"calls\": [" + wrong + "], \"done\": true}")).isFalse();

        String refs = "{\"$defs\": {\"w\": " + WEATHER + ", \"t\": " + TIME + "}, \"type\": \"array\", \"items\": "
                + "{\"oneOf\": [{\"$ref\": \"#/$defs/w\"}, {\"$ref\": \"#/$defs/t\"}]}}";
        assertThat(accepts(refs, "[" + call1 + "," + call2 + "]")).isTrue();
        assertThat(accepts(refs, "[" + wrong + "]")).isFalse();
    }

    @Test
    void objectUnionsMixWithOtherKindsAndNestedUnionsFlatten() {
        String third = WEATHER.replace("get_weather", "get_news").replace("city", "topic");
        String schema = "{\"anyOf\": [" + TOOLS + ", {\"type\": \"null\"}, {\"anyOf\": [" + third
                + ", {\"type\": \"string\"}]}]}";
        assertThat(accepts(schema, "null")).isTrue();
        assertThat(accepts(schema, "\"text\"")).isTrue();
        assertThat(accepts(schema, "{\"name\": \"get_news\", \"arguments\": {\"topic\": \"x\"}}")).isTrue();
        assertThat(accepts(schema, "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"x\"}}")).isTrue();
        assertThat(accepts(schema, "{\"name\": \"get_news\", \"arguments\": {\"city\": \"x\"}}")).isFalse();
        assertThat(accepts(schema, "1")).isFalse();
    }

    @Test
    void copiesInsideTheDiscriminatorAreIndependent() {
        JsonAutomaton a = new JsonAutomaton(JsonGrammar.ofSchema(TOOLS));
        assertThat(a.advance("[".getBytes(StandardCharsets.UTF_8))).isFalse();
        a = new JsonAutomaton(JsonGrammar.ofSchema(TOOLS));
        assertThat(a.advance("{\"name\": \"get_".getBytes(StandardCharsets.UTF_8))).isTrue();
        JsonAutomaton time = a.copy();
        assertThat(a.advance("weather\", \"arguments\": {\"city\": \"x\"}}".getBytes(StandardCharsets.UTF_8))
                && a.isComplete()).isTrue();
        assertThat(time.advance("time\", \"arguments\": {\"tz\": \"x\"}}".getBytes(StandardCharsets.UTF_8))
                && time.isComplete()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // two objects, one without properties
        "[{\"type\": \"object\"}, {\"properties\": {\"k\": {\"const\": 1}}, \"required\": [\"k\"]}]|declares no properties",
        "[{\"type\": \"object\", \"additionalProperties\": false}, {\"type\": \"object\", \"properties\": {}}]"
            + "|declares no properties",
        "[{\"properties\": {\"k\": {\"const\": 1}}, \"required\": [\"k\"]}, {\"properties\": {\"j\": {\"const\": 2}}, "
            + "\"required\": [\"j\"]}]|first declared properties differ ('k', 'j')",
        "[{\"properties\": {\"k\": {\"const\": 1}}, \"required\": [\"k\"]}, {\"properties\": {\"k\": {\"const\": 2}}}]"
            + "|'k' is not required",
        "[{\"properties\": {\"k\": {\"const\": 1}, \"x\": {}}, \"required\": [\"x\"]}, {\"properties\": {\"k\": "
            + "{\"const\": 2}}, \"required\": [\"k\"]}]|'k' is not required",
        "[{\"properties\": {\"k\": {\"const\": 1}}, \"required\": [\"k\"]}, {\"properties\": {\"k\": {\"type\": "
            + "\"string\"}}, \"required\": [\"k\"]}]|'k' is not a const",
        "[{\"properties\": {\"k\": {\"enum\": [1, 2]}}, \"required\": [\"k\"]}, {\"properties\": {\"k\": {\"const\": "
            + "3}}, \"required\": [\"k\"]}]|'k' is not a const",
        "[{\"properties\": {\"k\": {\"const\": \"a\"}}, \"required\": [\"k\"]}, {\"properties\": {\"k\": {\"enum\": "
            + "[\"a\"]}, \"x\": {}}, \"required\": [\"k\"]}]|two of them have 'k' = \"a\""})
    void objectUnionsWithoutADiscriminatorAreRejectedByName(String alternatives, String problem) {
        for (String combinator : List.of("anyOf", "oneOf")) {
            String schema = "{\"type\": \"array\", \"items\": {\"" + combinator + "\": " + alternatives + "}}";
            assertThatThrownBy(() -> JsonGrammar.ofSchema(schema))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                        assertThat(e.field()).isEqualTo("response_format");
                        assertThat(e.getMessage())
                                .contains("at #/items/" + combinator + " has 2 object alternatives")
                                .contains("discriminated union", "first declared property", "'required'", "'const'",
                                        "differs")
                                .contains(problem);
                    });
        }
    }
}
