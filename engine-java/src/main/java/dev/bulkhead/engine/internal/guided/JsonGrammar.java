package dev.bulkhead.engine.internal.guided;

import java.util.Arrays;

/**
 * A compiled JSON grammar: a graph of value nodes (cycles allowed, for recursive schemas) that
 * {@link JsonAutomaton} walks. Built by {@link SchemaCompiler}; immutable afterwards, so one grammar may
 * serve many automata. Node ids index {@link #node(int)}.
 */
public final class JsonGrammar {

    /** What one node accepts. */
    sealed interface Node {
    }

    /**
     * An object whose members are {@code keys} in this order, each optional unless required.
     *
     * @param keys         the keys as they must appear between the quotes (JSON-escaped UTF-8)
     * @param values       the value node of each key
     * @param nextRequired for each index i (and keys.size()), the first required index >= i, or keys.size()
     */
    record ObjectNode(LiteralSet keys, int[] values, int[] nextRequired) implements Node {
    }

    /** An object with any keys, every value matching {@code value}. */
    record MapNode(int value) implements Node {
    }

    /** An array of {@code min} to {@code max} items matching {@code items}. */
    record ArrayNode(int items, int min, int max) implements Node {
    }

    /** Any string. */
    record StringNode() implements Node {
    }

    /** Any number, or only integers (no fraction, no exponent). */
    record NumberNode(boolean integer) implements Node {
    }

    /** Exactly one of these JSON texts (enum, const, true/false/null). */
    record LiteralNode(LiteralSet values) implements Node {
    }

    /**
     * The value of a discriminated object union's first member: one of {@code values}, the i-th choosing
     * {@code objects[i]} as the object the enclosing (union head) object goes on as. Only ever the single
     * member of such a head object, built by {@link DiscriminatedUnion}.
     */
    record TagNode(LiteralSet values, int[] objects) implements Node {
    }

    /** One of several alternatives, told apart by their first byte: {@code dispatch[b]} is the node or -1. */
    record UnionNode(int[] dispatch) implements Node {
    }

    /** The same as another node (a {@code $ref}); resolved when a value starts. */
    record AliasNode(int target) implements Node {
    }

    private final Node[] nodes;
    private final int root;

    JsonGrammar(Node[] nodes, int root) {
        this.nodes = nodes.clone();
        this.root = root;
    }

    /** The grammar of any JSON object, OpenAI's {@code json_object}. */
    public static JsonGrammar anyObject() {
        return SchemaCompiler.anyObject();
    }

    /**
     * The grammar of documents matching a JSON Schema (a practical subset).
     *
     * @throws dev.bulkhead.engine.InvalidRequestException (field {@code response_format}) naming the first
     *                                                     unsupported or invalid keyword
     */
    public static JsonGrammar ofSchema(String schemaJson) {
        return SchemaCompiler.compile(schemaJson);
    }

    int root() {
        return root;
    }

    Node node(int id) {
        return nodes[id];
    }

    int size() {
        return nodes.length;
    }

    /** The values a literal or tag node {@code id} matches. */
    LiteralSet literals(int id) {
        return switch (nodes[id]) {
            case LiteralNode l -> l.values();
            case TagNode t -> t.values();
            default -> throw new IllegalArgumentException("node " + id + " is not a literal: " + nodes[id]);
        };
    }

    /** The concrete (neither union nor alias) node a value of {@code id} starting with byte {@code b} is, or -1. */
    int resolve(int id, int b) {
        for (int hops = 0; hops <= nodes.length; hops++) {
            Node n = nodes[id];
            if (n instanceof AliasNode a) {
                id = a.target();
            } else if (n instanceof UnionNode u) {
                id = u.dispatch()[b];
                if (id < 0) {
                    return -1;
                }
            } else {
                return startsWith(n, b) ? id : -1;
            }
        }
        throw new IllegalStateException("alias cycle at node " + id); // SchemaCompiler rules these out
    }

    /** The bytes a value of {@code id} may start with (leading whitespace aside). */
    boolean[] firstBytes(int id) {
        boolean[] out = new boolean[256];
        for (int b = 0; b < 256; b++) {
            out[b] = resolve(id, b) >= 0;
        }
        return out;
    }

    static boolean startsWith(Node n, int b) {
        return switch (n) {
            case ObjectNode o -> b == '{';
            case MapNode m -> b == '{';
            case ArrayNode a -> b == '[';
            case StringNode s -> b == '"';
            case NumberNode num -> JsonLexer.isNumberStart(b);
            case LiteralNode l -> l.values().next(0, l.values().size() - 1, 0, b) >= 0;
            case TagNode t -> t.values().next(0, t.values().size() - 1, 0, b) >= 0;
            case UnionNode u -> u.dispatch()[b] >= 0;
            case AliasNode a -> false; // never reached: resolve follows aliases first
        };
    }

    @Override
    public String toString() {
        return "JsonGrammar[root=" + root + ", nodes=" + Arrays.toString(nodes) + "]";
    }
}
