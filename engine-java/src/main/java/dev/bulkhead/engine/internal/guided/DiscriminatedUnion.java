package dev.bulkhead.engine.internal.guided;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.internal.guided.JsonGrammar.AliasNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.LiteralNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.MapNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.Node;
import dev.bulkhead.engine.internal.guided.JsonGrammar.ObjectNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.TagNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Links the object alternatives of one anyOf/oneOf into one object the automaton can follow without
 * guessing. Objects all start with '{', so the first byte cannot choose; but members are generated in
 * declared order, so when every alternative's first declared property has the same key, is required and is
 * a constant with its own value (a "discriminator", as in OpenAI tool calls {@code {"name": "...", ...}}),
 * every document starts {@code {"key": value} and that value names the alternative. The union becomes a head
 * object with that one member, whose value is a {@link TagNode}: the constants as one {@link LiteralSet}
 * (constants sharing a prefix are told apart only once one ends) mapped to the alternatives, which the
 * automaton continues as from their second member.
 */
final class DiscriminatedUnion {

    private final List<Node> nodes;
    private final Map<Integer, List<Integer>> heads = new HashMap<>(); // head node -> the objects it picks among

    DiscriminatedUnion(List<Node> nodes) {
        this.nodes = nodes;
    }

    /** True when node {@code id} is an object (declared properties or any keys), head objects included. */
    boolean isObject(int id) {
        return nodes.get(id) instanceof ObjectNode || nodes.get(id) instanceof MapNode;
    }

    /** The objects node {@code id} stands for: a head's alternatives (so nested unions flatten), else itself. */
    List<Integer> alternatives(int id) {
        return heads.getOrDefault(id, List.of(id));
    }

    /**
     * The node of a union of these objects: the object itself when there is one, else a new head object.
     *
     * @throws dev.bulkhead.engine.InvalidRequestException when the objects are not told apart by a discriminator
     */
    int link(List<Integer> objects, String path) {
        if (objects.size() == 1) {
            return objects.getFirst();
        }
        byte[] key = null;
        List<byte[]> values = new ArrayList<>();
        for (int id : objects) {
            if (!(nodes.get(id) instanceof ObjectNode o) || o.values().length == 0) {
                throw notDiscriminated(path, objects.size(), "one of them declares no properties");
            }
            byte[] k = o.keys().value(0);
            if (key != null && !Arrays.equals(key, k)) {
                throw notDiscriminated(path, objects.size(), "their first declared properties differ ('"
                        + text(key) + "', '" + text(k) + "')");
            }
            key = k;
            if (o.nextRequired()[0] != 0) {
                throw notDiscriminated(path, objects.size(), "the first declared property '" + text(k)
                        + "' is not required in one of them");
            }
            byte[] value = constant(o.values()[0]);
            if (value == null) {
                throw notDiscriminated(path, objects.size(), "the first declared property '" + text(k)
                        + "' is not a const in one of them");
            }
            for (byte[] seen : values) {
                if (Arrays.equals(seen, value)) {
                    throw notDiscriminated(path, objects.size(), "two of them have '" + text(k) + "' = "
                            + text(value));
                }
            }
            values.add(value);
        }
        int tag = add(new TagNode(new LiteralSet(values), objects.stream().mapToInt(Integer::intValue).toArray()));
        int head = add(new ObjectNode(new LiteralSet(List.of(key)), new int[] {tag}, new int[] {0, 1}));
        heads.put(head, List.copyOf(objects));
        return head;
    }

    /** The JSON text of the one value node {@code id} allows (following $refs), or null if it allows more. */
    private byte[] constant(int id) {
        for (int hops = 0; hops <= nodes.size() && nodes.get(id) instanceof AliasNode a; hops++) {
            id = a.target();
        }
        return nodes.get(id) instanceof LiteralNode l && l.values().size() == 1 ? l.values().value(0) : null;
    }

    private int add(Node n) {
        nodes.add(n);
        return nodes.size() - 1;
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static InvalidRequestException notDiscriminated(String path, int count, String problem) {
        return SchemaCompiler.invalid("JSON schema anyOf/oneOf at " + path + " has " + count + " object "
                + "alternatives, which are only supported as a discriminated union: every object alternative must "
                + "declare 'properties' whose first declared property has the same name in all of them, is listed "
                + "in 'required' and is a 'const' (or one-value 'enum') whose value differs between them; here "
                + problem);
    }
}
