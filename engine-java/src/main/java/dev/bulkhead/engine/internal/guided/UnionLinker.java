package dev.bulkhead.engine.internal.guided;

import dev.bulkhead.engine.internal.guided.JsonGrammar.AliasNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.LiteralNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.Node;
import dev.bulkhead.engine.internal.guided.JsonGrammar.NumberNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.StringNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.UnionNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns each union's list of alternatives into a table from first byte to alternative. The automaton then
 * never guesses: a value's first byte decides which alternative it is. Where two alternatives share a first
 * byte, one must contain the other (number over integer, string over string literals) or both be literal
 * sets (merged); several objects must form a discriminated union, which {@link DiscriminatedUnion} links
 * into one object whose first member decides; anything else is rejected.
 */
final class UnionLinker {

    /** A union's alternatives as compiled, and where in the schema it is (for messages). */
    record Alternatives(int[] ids, String path) {
    }

    private final List<Node> nodes;
    private final Map<Integer, Alternatives> pending;
    private final DiscriminatedUnion objects;
    private final Set<Integer> inProgress = new HashSet<>();
    private final Map<Long, Integer> merged = new HashMap<>();

    UnionLinker(List<Node> nodes, Map<Integer, Alternatives> pending) {
        this.nodes = nodes;
        this.pending = pending;
        this.objects = new DiscriminatedUnion(nodes);
    }

    void linkAll() {
        for (int id : List.copyOf(pending.keySet())) {
            link(id);
        }
    }

    private int[] link(int id) {
        if (nodes.get(id) instanceof UnionNode u) {
            return u.dispatch();
        }
        if (!inProgress.add(id)) {
            throw SchemaCompiler.invalid("JSON schema anyOf/oneOf contains itself as an alternative");
        }
        Alternatives alternatives = pending.get(id);
        int[] dispatch = new int[256];
        Arrays.fill(dispatch, -1);
        // NOTE: objects are gathered rather than merged pair by pair, so that a discriminated union (flattened
        // through nested unions) is checked and built once, over all its objects.
        Set<Integer> objectAlternatives = new LinkedHashSet<>();
        for (int alt : alternatives.ids()) {
            for (int b = 0; b < 256; b++) {
                int c = concrete(alt, b);
                if (c >= 0 && b == '{' && objects.isObject(c)) {
                    objectAlternatives.addAll(objects.alternatives(c));
                } else if (c >= 0) {
                    dispatch[b] = dispatch[b] < 0 ? c : merge(dispatch[b], c, b);
                }
            }
        }
        if (!objectAlternatives.isEmpty()) {
            int o = objects.link(List.copyOf(objectAlternatives), alternatives.path());
            dispatch['{'] = dispatch['{'] < 0 ? o : merge(dispatch['{'], o, '{');
        }
        nodes.set(id, new UnionNode(dispatch));
        inProgress.remove(id);
        return dispatch;
    }

    private int concrete(int id, int b) {
        for (int hops = 0; nodes.get(id) instanceof AliasNode a; hops++) {
            if (hops > nodes.size()) {
                throw SchemaCompiler.invalid("JSON schema $ref cycle that never reaches a schema");
            }
            id = a.target();
        }
        if (pending.containsKey(id)) {
            return link(id)[b];
        }
        return JsonGrammar.startsWith(nodes.get(id), b) ? id : -1;
    }

    private int merge(int a, int c, int b) {
        if (a == c) {
            return a;
        }
        Node x = nodes.get(a);
        Node y = nodes.get(c);
        if (x instanceof NumberNode nx && y instanceof NumberNode ny) {
            return nx.integer() ? c : a;
        }
        if (x instanceof StringNode && y instanceof LiteralNode || x instanceof NumberNode nx && !nx.integer()
                && y instanceof LiteralNode) {
            return a;
        }
        if (y instanceof StringNode && x instanceof LiteralNode || y instanceof NumberNode ny && !ny.integer()
                && x instanceof LiteralNode) {
            return c;
        }
        if (x instanceof LiteralNode lx && y instanceof LiteralNode ly) {
            return merged.computeIfAbsent((long) a << 32 | c, k -> addMerged(lx.values(), ly.values()));
        }
        throw SchemaCompiler.invalid("JSON schema anyOf/oneOf alternatives overlap: two of them can start with '"
                + (char) b + "' (only alternatives of different JSON types, or objects told apart by a discriminator, are "
                + "supported)");
    }

    private int addMerged(LiteralSet x, LiteralSet y) {
        Set<String> texts = new LinkedHashSet<>();
        for (LiteralSet set : List.of(x, y)) {
            for (int i = 0; i < set.size(); i++) {
                texts.add(new String(set.value(i), StandardCharsets.UTF_8));
            }
        }
        nodes.add(SchemaCompiler.literals(new ArrayList<>(texts)));
        return nodes.size() - 1;
    }
}
