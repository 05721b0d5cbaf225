package dev.bulkhead.engine.internal.guided;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.internal.guided.JsonGrammar.AliasNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.ArrayNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.LiteralNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.MapNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.Node;
import dev.bulkhead.engine.internal.guided.JsonGrammar.NumberNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.ObjectNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.StringNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.UnionNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a JSON Schema into a {@link JsonGrammar}. The subset: {@code type} (one or a list), object
 * {@code properties} / {@code required} / {@code additionalProperties}, array {@code items} /
 * {@code minItems} / {@code maxItems}, {@code enum}, {@code const}, {@code anyOf} / {@code oneOf} whose
 * alternatives start differently (distinct JSON types) or are objects told apart by a discriminator (see
 * {@link DiscriminatedUnion}), single-element {@code allOf}, local {@code $ref}
 * into {@code $defs} / {@code definitions} (recursion included). Annotations (title, description, ...)
 * are ignored; any other keyword is rejected by name, since silently ignoring a constraint would produce
 * output the client's validator rejects.
 *
 * <p>Objects are generated with their declared properties only, in declared order, optional ones
 * skippable: every such document conforms whatever {@code additionalProperties} says, as in outlines.
 */
final class SchemaCompiler {

    static final String FIELD = "response_format";
    /** Bounds that keep an automaton frame's packed fields in range and a hostile schema small. */
    static final int MAX_PROPERTIES = 4096;
    static final int MAX_KEY_BYTES = 1024;
    static final int MAX_LITERALS = 4096;
    static final int MAX_LITERAL_BYTES = 65535;
    private static final int MAX_SCHEMA_DEPTH = 64;
    private static final int MAX_NODES = 1 << 16;

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment",
            "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    private static final Set<String> SUPPORTED = Set.of("type", "properties", "required", "additionalProperties",
            "items", "minItems", "maxItems", "uniqueItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref");

    // Nodes every grammar has, so that "any value" needs no compiling.
    static final int ANY = 0;
    static final int ANY_OBJECT = 1;
    private static final int ANY_ARRAY = 2;
    private static final int STRING = 3;
    private static final int NUMBER = 4;
    private static final int INTEGER = 5;
    private static final int BOOLEAN = 6;
    private static final int NULL = 7;

    private final ObjectMapper json = new ObjectMapper();
    private final JsonNode root;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Integer> refs = new HashMap<>();
    private final Map<Integer, UnionLinker.Alternatives> unions = new LinkedHashMap<>(); // until linked

    private SchemaCompiler(JsonNode root) {
        this.root = root;
        union(new int[] {ANY_OBJECT, ANY_ARRAY, STRING, NUMBER, BOOLEAN, NULL}, "any value");
        add(new MapNode(ANY));
        add(new ArrayNode(ANY, 0, Integer.MAX_VALUE));
        add(new StringNode());
        add(new NumberNode(false));
        add(new NumberNode(true));
        add(literals(List.of("true", "false")));
        add(literals(List.of("null")));
    }

    static JsonGrammar anyObject() {
        SchemaCompiler c = new SchemaCompiler(null);
        return c.link(ANY_OBJECT);
    }

    static JsonGrammar compile(String schemaJson) {
        if (schemaJson == null || schemaJson.isBlank()) {
            throw invalid("json_schema.schema must be a JSON Schema object, got nothing");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(schemaJson);
        } catch (JsonProcessingException e) {
            throw invalid("json_schema.schema is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !(root.isObject() || root.isBoolean())) {
            throw invalid("json_schema.schema must be a JSON Schema object");
        }
        SchemaCompiler c = new SchemaCompiler(root);
        return c.link(c.compile(root, "#", 0));
    }

    private int compile(JsonNode s, String path, int depth) {
        if (depth > MAX_SCHEMA_DEPTH) {
            throw invalid("JSON schema nests deeper than " + MAX_SCHEMA_DEPTH + " levels at " + path);
        }
        if (s.isBoolean()) {
            if (!s.booleanValue()) {
                throw invalid("JSON schema 'false' at " + path + " matches nothing");
            }
            return ANY;
        }
        if (!s.isObject()) {
            throw invalid("JSON schema at " + path + " must be an object or a boolean");
        }
        for (String key : (Iterable<String>) s::fieldNames) {
            if (!SUPPORTED.contains(key) && !ANNOTATIONS.contains(key)) {
                throw invalid("JSON schema keyword '" + key + "' at " + path + " is not supported (supported: "
                        + String.join(", ", SUPPORTED.stream().sorted().toList()) + ")");
            }
        }
        if (s.has("$ref")) {
            onlyWith(s, path, "$ref");
            return ref(s.get("$ref"), path, depth);
        }
        for (String combinator : List.of("anyOf", "oneOf")) {
            if (s.has(combinator)) {
                onlyWith(s, path, combinator);
                JsonNode alts = nonEmptyArray(s.get(combinator), path + "/" + combinator);
                int[] ids = new int[alts.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = compile(alts.get(i), path + "/" + combinator + "/" + i, depth + 1);
                }
                return ids.length == 1 ? ids[0] : union(ids, path + "/" + combinator);
            }
        }
        if (s.has("allOf")) {
            onlyWith(s, path, "allOf");
            JsonNode all = nonEmptyArray(s.get("allOf"), path + "/allOf");
            if (all.size() != 1) {
                throw invalid("JSON schema 'allOf' at " + path + " must have exactly one element to be supported");
            }
            return compile(all.get(0), path + "/allOf/0", depth + 1);
        }
        if (s.has("const")) {
            return add(literals(List.of(text(s.get("const")))));
        }
        if (s.has("enum")) {
            JsonNode values = nonEmptyArray(s.get("enum"), path + "/enum");
            Set<String> texts = new LinkedHashSet<>();
            values.forEach(v -> texts.add(text(v)));
            return add(literals(List.copyOf(texts)));
        }
        JsonNode type = s.get("type");
        if (type == null) {
            return compileType(s, inferType(s), path, depth);
        }
        if (type.isTextual()) {
            return compileType(s, type.asText(), path, depth);
        }
        JsonNode types = nonEmptyArray(type, path + "/type");
        int[] ids = new int[types.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = compileType(s, types.get(i).asText(), path, depth);
        }
        return ids.length == 1 ? ids[0] : union(ids, path + "/type");
    }

    private static String inferType(JsonNode s) {
        if (s.has("properties") || s.has("required") || s.has("additionalProperties")) {
            return "object";
        }
        return s.has("items") || s.has("minItems") || s.has("maxItems") ? "array" : "any";
    }

    private int compileType(JsonNode s, String type, String path, int depth) {
        return switch (type) {
            case "string" -> STRING;
            case "number" -> NUMBER;
            case "integer" -> INTEGER;
            case "boolean" -> BOOLEAN;
            case "null" -> NULL;
            case "any" -> ANY;
            case "object" -> compileObject(s, path, depth);
            case "array" -> compileArray(s, path, depth);
            default -> throw invalid("JSON schema type '" + type + "' at " + path + " is not a JSON Schema type");
        };
    }

    private int compileObject(JsonNode s, String path, int depth) {
        JsonNode props = s.path("properties");
        if (!props.isMissingNode() && !props.isObject()) {
            throw invalid("JSON schema 'properties' at " + path + " must be an object");
        }
        Set<String> required = new LinkedHashSet<>();
        JsonNode req = s.path("required");
        if (!req.isMissingNode()) {
            if (!req.isArray()) {
                throw invalid("JSON schema 'required' at " + path + " must be an array of property names");
            }
            req.forEach(r -> required.add(r.asText()));
        }
        for (String r : required) {
            if (!props.has(r)) {
                throw invalid("JSON schema at " + path + " requires property '" + r + "', which is not in its "
                        + "'properties' (only declared properties can be generated)");
            }
        }
        if (props.isMissingNode() || props.isEmpty()) {
            JsonNode extra = s.path("additionalProperties");
            if (extra.isMissingNode() || (extra.isBoolean() && extra.booleanValue())) {
                return ANY_OBJECT;
            }
            if (extra.isBoolean()) {
                return add(new ObjectNode(new LiteralSet(List.of()), new int[0], new int[] {0}));
            }
            int slot = add(null);
            nodes.set(slot, new MapNode(compile(extra, path + "/additionalProperties", depth + 1)));
            return slot;
        }
        if (props.size() > MAX_PROPERTIES) {
            throw invalid("JSON schema at " + path + " has " + props.size() + " properties, more than "
                    + MAX_PROPERTIES);
        }
        int slot = add(null); // reserved first, so a recursive $ref to this object resolves to it
        List<byte[]> keys = new ArrayList<>();
        int[] values = new int[props.size()];
        boolean[] isRequired = new boolean[props.size()];
        int i = 0;
        for (Map.Entry<String, JsonNode> e : props.properties()) {
            byte[] key = quotedContent(e.getKey());
            if (key.length > MAX_KEY_BYTES) {
                throw invalid("JSON schema property name at " + path + " is longer than " + MAX_KEY_BYTES + " bytes");
            }
            keys.add(key);
            isRequired[i] = required.contains(e.getKey());
            values[i] = compile(e.getValue(), path + "/properties/" + e.getKey(), depth + 1);
            i++;
        }
        int[] nextRequired = new int[values.length + 1];
        nextRequired[values.length] = values.length;
        for (int k = values.length - 1; k >= 0; k--) {
            nextRequired[k] = isRequired[k] ? k : nextRequired[k + 1];
        }
        nodes.set(slot, new ObjectNode(new LiteralSet(keys), values, nextRequired));
        return slot;
    }

    private int compileArray(JsonNode s, String path, int depth) {
        JsonNode items = s.path("items");
        if (items.isArray()) {
            throw invalid("JSON schema 'items' as an array (tuple form) at " + path + " is not supported");
        }
        if (s.path("uniqueItems").asBoolean(false)) {
            throw invalid("JSON schema keyword 'uniqueItems': true at " + path + " is not supported");
        }
        int min = count(s, "minItems", 0, path);
        int max = count(s, "maxItems", Integer.MAX_VALUE, path);
        if (min > max) {
            throw invalid("JSON schema at " + path + " has minItems " + min + " > maxItems " + max);
        }
        int slot = add(null);
        int itemNode = items.isMissingNode() ? ANY : compile(items, path + "/items", depth + 1);
        nodes.set(slot, new ArrayNode(itemNode, min, max));
        return slot;
    }

    private static int count(JsonNode s, String field, int absent, String path) {
        JsonNode n = s.get(field);
        if (n == null) {
            return absent;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 0) {
            throw invalid("JSON schema '" + field + "' at " + path + " must be a non-negative integer, got " + n);
        }
        return n.intValue();
    }

    private int ref(JsonNode refNode, String path, int depth) {
        String ref = refNode.asText();
        Integer known = refs.get(ref);
        if (known != null) {
            return known;
        }
        if (!ref.startsWith("#")) {
            throw invalid("JSON schema $ref '" + ref + "' at " + path + " is not supported: only local references "
                    + "(#/$defs/...) are");
        }
        JsonNode target;
        try {
            target = ref.equals("#") ? root : root.at(JsonPointer.compile(ref.substring(1)));
        } catch (IllegalArgumentException e) {
            throw invalid("JSON schema $ref '" + ref + "' at " + path + " is not a valid JSON pointer");
        }
        if (target.isMissingNode()) {
            throw invalid("JSON schema $ref '" + ref + "' at " + path + " points to nothing");
        }
        int alias = add(null);
        refs.put(ref, alias);
        nodes.set(alias, new AliasNode(compile(target, ref, depth + 1)));
        return alias;
    }

    private static void onlyWith(JsonNode s, String path, String keyword) {
        for (String key : (Iterable<String>) s::fieldNames) {
            if (!key.equals(keyword) && !ANNOTATIONS.contains(key)) {
                throw invalid("JSON schema keyword '" + key + "' beside '" + keyword + "' at " + path
                        + " is not supported");
            }
        }
    }

    private static JsonNode nonEmptyArray(JsonNode n, String path) {
        if (n == null || !n.isArray() || n.isEmpty()) {
            throw invalid("JSON schema at " + path + " must be a non-empty array");
        }
        return n;
    }

    private String text(JsonNode value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON value must serialize", e);
        }
    }

    /** The bytes between the quotes of {@code s} written as a JSON string, the form a key must take. */
    private byte[] quotedContent(String s) {
        byte[] quoted = text(json.getNodeFactory().textNode(s)).getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOfRange(quoted, 1, quoted.length - 1);
    }

    static LiteralNode literals(List<String> texts) {
        // NOTE: a literal frame packs the candidate index and the bytes read in 16 bits each.
        if (texts.size() > MAX_LITERALS || texts.stream().anyMatch(t -> t.length() * 3 > MAX_LITERAL_BYTES)) {
            throw invalid("JSON schema enum/const is too large: at most " + MAX_LITERALS + " values of at most "
                    + MAX_LITERAL_BYTES / 3 + " characters each are supported");
        }
        return new LiteralNode(new LiteralSet(texts.stream().map(t -> t.getBytes(StandardCharsets.UTF_8)).toList()));
    }

    private int add(Node n) {
        if (nodes.size() >= MAX_NODES) {
            throw invalid("JSON schema is too large: more than " + MAX_NODES + " nodes");
        }
        nodes.add(n);
        return nodes.size() - 1;
    }

    private int union(int[] alternatives, String path) {
        int id = add(null);
        unions.put(id, new UnionLinker.Alternatives(alternatives, path));
        return id;
    }

    /** Builds every union's first-byte dispatch table and checks that aliases end somewhere. */
    private JsonGrammar link(int rootId) {
        new UnionLinker(nodes, unions).linkAll();
        for (int i = 0; i < nodes.size(); i++) {
            int id = i;
            for (int hops = 0; nodes.get(id) instanceof AliasNode a; hops++) {
                if (hops > nodes.size()) {
                    throw invalid("JSON schema $ref cycle that never reaches a schema");
                }
                id = a.target();
            }
        }
        return new JsonGrammar(nodes.toArray(Node[]::new), rootId);
    }

    static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(FIELD, message);
    }
}
