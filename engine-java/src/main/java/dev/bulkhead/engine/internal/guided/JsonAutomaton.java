package dev.bulkhead.engine.internal.guided;

import dev.bulkhead.engine.internal.guided.JsonGrammar.ArrayNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.LiteralNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.MapNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.NumberNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.ObjectNode;
import dev.bulkhead.engine.internal.guided.JsonGrammar.TagNode;
import java.util.Arrays;

/**
 * A byte-level pushdown automaton for one JSON document of a {@link JsonGrammar}: it says whether a byte
 * may come next, and whether the document is complete. The whole state is a small stack of packed
 * {@code long} frames plus one counter, so {@link #copyFrom} is a short array copy: the token masker keeps
 * one copy per byte depth and backtracks for free.
 *
 * <p>A frame is {@code kind << 56 | node << 32 | payload}: END at the bottom, container frames (OBJ, ARR)
 * for each open object and array, and on top the value being read (VALUE before its first byte, then STR,
 * NUM or LIT). Numbers and literals have no closing byte: the byte after them pops their frame and is read
 * again by the frame below.
 *
 * <p>A discriminated union of objects starts as its head object, whose one member is the discriminator; when
 * the discriminator's literal ends, its value picks the alternative and the OBJ frame below is rewritten in
 * place to that alternative's object, past its first member. The state stays the same few frames.
 *
 * <p>Not thread safe. After {@link #advance} returns false the state is undefined: copy first to keep it.
 */
public final class JsonAutomaton {

    /**
     * Longest run of whitespace between tokens. Unbounded whitespace is valid JSON, but a small or
     * badly-prompted model under a mask often finds spaces and newlines the most likely allowed bytes and
     * would spend its whole budget on them (stories260K under a schema finished 7 of 12 runs in 200 tokens
     * with a bound of 8, 11 of 12 with 4); a bound forces structural progress. Four bytes still fit a newline
     * and one level of 2-space indentation; deeper pretty-printing comes out less indented, still valid.
     */
    public static final int MAX_WHITESPACE_RUN = 4;
    /** Deepest nesting of objects and arrays; keeps the stack (and each copy of it) small. */
    public static final int MAX_NESTING = 64;

    private static final int END = 0;
    private static final int VALUE = 1;
    private static final int OBJ = 2;
    private static final int ARR = 3;
    private static final int STR = 4;
    private static final int NUM = 5;
    private static final int LIT = 6;

    // Object phases: after '{', inside a declared key, after a key, after a member's value, after ','.
    private static final int FIRST = 0;
    private static final int KEY = 1;
    private static final int COLON = 2;
    private static final int NEXT = 3;
    private static final int COMMA = 4;

    // Array phases: after '[', after an item, after ','.
    private static final int ARRAY_FIRST = 0;
    private static final int ARRAY_NEXT = 1;
    private static final int ARRAY_COMMA = 2;

    private static final int ARRAY_COUNT_CAP = (1 << 28) - 1;

    // What a frame does with a byte.
    private static final int REJECT = 0;
    private static final int TOKEN = 1;
    private static final int SPACE = 2;
    private static final int RETRY = 3;

    private final JsonGrammar grammar;
    private final long[] stack = new long[MAX_NESTING + 2]; // END, the open containers, the value being read
    private int depth;
    private int whitespaceRun;

    /** An automaton at the start of a document. */
    public JsonAutomaton(JsonGrammar grammar) {
        this.grammar = grammar;
        stack[0] = frame(END, 0, 0);
        stack[1] = frame(VALUE, grammar.root(), 0);
        depth = 2;
    }

    /** Makes this automaton's state equal to {@code other}'s (same grammar). */
    public void copyFrom(JsonAutomaton other) {
        System.arraycopy(other.stack, 0, stack, 0, other.depth);
        depth = other.depth;
        whitespaceRun = other.whitespaceRun;
    }

    /** A copy of this automaton. */
    public JsonAutomaton copy() {
        JsonAutomaton c = new JsonAutomaton(grammar);
        c.copyFrom(this);
        return c;
    }

    /** Feeds every byte; false (state undefined) at the first one not allowed. */
    public boolean advance(byte[] bytes) {
        for (byte b : bytes) {
            if (!advance(b & 0xff)) {
                return false;
            }
        }
        return true;
    }

    /** Feeds one byte (0..255); false when the grammar does not allow it here (the state is then undefined). */
    public boolean advance(int b) {
        while (true) {
            long f = stack[depth - 1];
            int r = switch (kind(f)) {
                case VALUE -> value(f, b);
                case OBJ -> object(f, b);
                case ARR -> array(f, b);
                case STR -> string(f, b);
                case NUM -> number(f, b);
                case LIT -> literal(f, b);
                default -> REJECT; // END: nothing may follow a complete document
            };
            switch (r) {
                case TOKEN -> {
                    whitespaceRun = 0;
                    return true;
                }
                case SPACE -> {
                    return true;
                }
                case RETRY -> {
                    // the top frame ended before b; the frame below reads it
                }
                default -> {
                    return false;
                }
            }
        }
    }

    /**
     * True when {@code b} is allowed and leaves the state exactly as it is: a plain ASCII character inside a
     * string. Lets the masker skip most of the work for the bulk of a vocabulary while a string is open.
     */
    boolean keepsStateOn(int b) {
        long f = stack[depth - 1];
        return kind(f) == STR && payload(f) == JsonLexer.STRING_START && b >= 0x20 && b < 0x80 && b != '"'
                && b != '\\';
    }

    /** True when the bytes so far form a whole document (a trailing number may still grow). */
    public boolean isComplete() {
        return depth == 1 || depth == 2 && canEnd(stack[1]);
    }

    /** True when this automaton's state equals {@code other}'s. */
    boolean sameState(JsonAutomaton other) {
        return depth == other.depth && whitespaceRun == other.whitespaceRun
                && Arrays.equals(stack, 0, depth, other.stack, 0, depth);
    }

    /** Hash of the state, consistent with {@link #sameState}. */
    int stateHash() {
        int h = 31 * depth + whitespaceRun;
        for (int i = 0; i < depth; i++) {
            h = 31 * h + Long.hashCode(stack[i]);
        }
        return h;
    }

    private boolean canEnd(long f) {
        return switch (kind(f)) {
            case NUM -> JsonLexer.numberCanEnd(payload(f));
            case LIT -> {
                LiteralSet set = grammar.literals(node(f));
                yield set.exact(hi16(payload(f)), set.size() - 1, lo16(payload(f))) >= 0;
            }
            default -> false;
        };
    }

    private int space() {
        if (whitespaceRun >= MAX_WHITESPACE_RUN) {
            return REJECT;
        }
        whitespaceRun++;
        return SPACE;
    }

    private static boolean isSpace(int b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    /** The first byte of a value: the frame becomes the frame that reads the rest of it. */
    private int value(long f, int b) {
        if (isSpace(b)) {
            return space();
        }
        int id = grammar.resolve(node(f), b);
        if (id < 0 || (b == '{' || b == '[') && depth - 1 > MAX_NESTING) {
            return REJECT; // below this frame: END and depth - 2 open containers
        }
        switch (grammar.node(id)) {
            case ObjectNode o -> replace(OBJ, id, FIRST << 28);
            case MapNode m -> replace(OBJ, id, FIRST << 28);
            case ArrayNode a -> replace(ARR, id, ARRAY_FIRST << 30);
            case NumberNode n -> replace(NUM, id, JsonLexer.numberStart(b));
            case LiteralNode l -> replace(LIT, id, l.values().next(0, l.values().size() - 1, 0, b) << 16 | 1);
            case TagNode t -> replace(LIT, id, t.values().next(0, t.values().size() - 1, 0, b) << 16 | 1);
            default -> replace(STR, id, JsonLexer.STRING_START);
        }
        return TOKEN;
    }

    private int object(long f, int b) {
        int id = node(f);
        int p = payload(f);
        int phase = p >>> 28;
        int idx = p >>> 14 & 0x3fff;
        ObjectNode declared = grammar.node(id) instanceof ObjectNode o ? o : null;
        switch (phase) {
            case FIRST, COMMA -> {
                if (isSpace(b)) {
                    return space();
                }
                int from = phase == FIRST ? 0 : idx;
                if (b == '}' && phase == FIRST && closable(declared, 0)) {
                    depth--;
                    return TOKEN;
                }
                if (b != '"') {
                    return REJECT;
                }
                if (declared == null) {
                    return push(STR, SchemaCompiler.ANY, JsonLexer.STRING_START, OBJ, id, COLON << 28);
                }
                if (from >= declared.values().length) {
                    return REJECT;
                }
                replace(OBJ, id, KEY << 28 | from << 14);
                return TOKEN;
            }
            case KEY -> {
                LiteralSet keys = declared.keys();
                int read = p & 0x3fff;
                int hi = Math.min(declared.nextRequired()[idx], keys.size() - 1);
                // NOTE: a quote that continues a key is escaped (keys are JSON string contents); only a quote
                // that cannot continue one closes the key.
                int j = keys.next(idx, hi, read, b);
                if (j >= 0) {
                    replace(OBJ, id, KEY << 28 | j << 14 | read + 1);
                    return TOKEN;
                }
                j = b == '"' ? keys.exact(idx, hi, read) : -1;
                if (j < 0) {
                    return REJECT;
                }
                replace(OBJ, id, COLON << 28 | j << 14);
                return TOKEN;
            }
            case COLON -> {
                if (isSpace(b)) {
                    return space();
                }
                if (b != ':') {
                    return REJECT;
                }
                int member = declared == null ? ((MapNode) grammar.node(id)).value() : declared.values()[idx];
                return push(VALUE, member, 0, OBJ, id, NEXT << 28 | (declared == null ? 0 : idx + 1) << 14);
            }
            default -> {
                if (isSpace(b)) {
                    return space();
                }
                if (b == ',' && (declared == null || idx < declared.values().length)) {
                    replace(OBJ, id, COMMA << 28 | idx << 14);
                    return TOKEN;
                }
                if (b == '}' && closable(declared, idx)) {
                    depth--;
                    return TOKEN;
                }
                return REJECT;
            }
        }
    }

    /** True when no required property is left from index {@code from} on. */
    private static boolean closable(ObjectNode declared, int from) {
        return declared == null || declared.nextRequired()[from] == declared.values().length;
    }

    private int array(long f, int b) {
        int id = node(f);
        ArrayNode a = (ArrayNode) grammar.node(id);
        int p = payload(f);
        int phase = p >>> 30;
        int count = p & ARRAY_COUNT_CAP;
        if (isSpace(b)) {
            return space();
        }
        if (phase == ARRAY_NEXT) {
            if (b == ',' && count < a.max()) {
                replace(ARR, id, ARRAY_COMMA << 30 | count);
                return TOKEN;
            }
            if (b == ']' && count >= a.min()) {
                depth--;
                return TOKEN;
            }
            return REJECT;
        }
        if (b == ']' && phase == ARRAY_FIRST && a.min() == 0) {
            depth--;
            return TOKEN;
        }
        if (count >= a.max()) {
            return REJECT;
        }
        // The item starts with this byte: the array moves on, and the item's VALUE frame reads b again.
        int r = push(VALUE, a.items(), 0, ARR, id, ARRAY_NEXT << 30 | Math.min(count + 1, ARRAY_COUNT_CAP));
        return r == REJECT ? REJECT : RETRY;
    }

    private int string(long f, int b) {
        int s = JsonLexer.stringStep(payload(f), b);
        if (s == JsonLexer.REJECT) {
            return REJECT;
        }
        if (s == JsonLexer.STRING_END) {
            depth--;
        } else {
            replace(STR, node(f), s);
        }
        return TOKEN;
    }

    private int number(long f, int b) {
        boolean integer = ((NumberNode) grammar.node(node(f))).integer();
        int s = JsonLexer.numberStep(payload(f), b, integer);
        if (s != JsonLexer.REJECT) {
            replace(NUM, node(f), s);
            return TOKEN;
        }
        if (JsonLexer.numberCanEnd(payload(f))) {
            depth--;
            return RETRY;
        }
        return REJECT;
    }

    private int literal(long f, int b) {
        int id = node(f);
        LiteralSet set = grammar.literals(id);
        int lo = hi16(payload(f));
        int read = lo16(payload(f));
        int j = set.next(lo, set.size() - 1, read, b);
        if (j >= 0) {
            replace(LIT, id, j << 16 | read + 1);
            return TOKEN;
        }
        j = set.exact(lo, set.size() - 1, read);
        if (j < 0) {
            return REJECT;
        }
        depth--;
        if (grammar.node(id) instanceof TagNode tag) {
            // NOTE: only now, with the value closed, is the alternative known ("a" vs "ab"): the head object's
            // frame becomes the chosen object's, keeping its phase and index (after member 0).
            replace(OBJ, tag.objects()[j], payload(stack[depth - 1]));
        }
        return RETRY;
    }

    private void replace(int kind, int node, int payload) {
        stack[depth - 1] = frame(kind, node, payload);
    }

    /** Rewrites the top frame as (kind, node, payload) and pushes a child frame above it. */
    private int push(int childKind, int childNode, int childPayload, int kind, int node, int payload) {
        if (depth == stack.length) {
            return REJECT; // unreachable while value() bounds the containers; kept as the array's guard
        }
        replace(kind, node, payload);
        stack[depth++] = frame(childKind, childNode, childPayload);
        return TOKEN;
    }

    private static long frame(int kind, int node, int payload) {
        return (long) kind << 56 | (long) node << 32 | (payload & 0xffffffffL);
    }

    private static int kind(long f) {
        return (int) (f >>> 56);
    }

    private static int node(long f) {
        return (int) (f >>> 32) & 0xffffff;
    }

    private static int payload(long f) {
        return (int) f;
    }

    private static int hi16(int p) {
        return p >>> 16;
    }

    private static int lo16(int p) {
        return p & 0xffff;
    }
}
