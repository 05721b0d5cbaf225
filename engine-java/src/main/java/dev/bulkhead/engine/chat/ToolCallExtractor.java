package dev.bulkhead.engine.chat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Splits one choice's output, as it streams in, into plain text and the tool calls the model wrote in its
 * {@link ToolCallFormat}. Text that might still turn into a call (a partial {@code <tool_call>} tag, a Llama answer
 * that opens with a brace) is held back until it is known; a call is released whole, once its JSON is complete. What
 * looks like a call but does not parse (bad JSON, no name) is given back as text, as vLLM's parsers do. Not thread
 * safe: one per choice, fed in order.
 */
public final class ToolCallExtractor {

    /** A piece of the output: {@link Text} or a {@link Call}. */
    public sealed interface Piece permits Text, Call {
    }

    /**
     * Plain text for {@code content}.
     *
     * @param text the text
     */
    public record Text(String text) implements Piece {
    }

    /**
     * A complete tool call.
     *
     * @param call the call
     */
    public record Call(ToolCall call) implements Piece {
    }

    /**
     * Pieces joined: their text and their calls, in order. Without {@code parallel} only one call per answer is kept
     * ({@code callsBefore} were kept already), as OpenAI's {@code parallel_tool_calls: false} promises.
     *
     * @param text  the text pieces joined
     * @param calls the calls kept
     */
    public record Split(String text, List<ToolCall> calls) {

        /**
         * Joins {@code pieces}.
         *
         * @param pieces      pieces in output order
         * @param parallel    whether several calls may be kept
         * @param callsBefore calls kept from earlier pieces of the same answer
         * @return the text and the calls kept
         */
        public static Split of(List<Piece> pieces, boolean parallel, int callsBefore) {
            StringBuilder text = new StringBuilder();
            List<ToolCall> calls = new ArrayList<>();
            for (Piece p : pieces) {
                switch (p) {
                    case Text(String t) -> text.append(t);
                    case Call(ToolCall c) -> {
                        if (parallel || callsBefore + calls.size() == 0) {
                            calls.add(c);
                        }
                    }
                }
            }
            return new Split(text.toString(), List.copyOf(calls));
        }
    }

    private static final String OPEN = "<tool_call>";
    private static final String CLOSE = "</tool_call>";
    private static final String PYTHON_TAG = "<|python_tag|>";
    private static final Pattern LLAMA_SEPARATOR = Pattern.compile("(?<=})\\s*;\\s*(?=\\{)");

    private enum LlamaMode { UNDECIDED, CALLS, TEXT }

    private final ToolCallFormat format;
    private final String forced;
    private final boolean chosen;
    private final ObjectMapper json;
    private final StringBuilder pending = new StringBuilder();
    private boolean insideCall;
    private LlamaMode llama = LlamaMode.UNDECIDED;
    private int calls;

    /**
     * For {@code tool_choice: "auto"}: calls are parsed out of the answer in {@code format}.
     *
     * @param format the model's tool-call format
     * @param json   parses the calls' JSON
     */
    public ToolCallExtractor(ToolCallFormat format, ObjectMapper json) {
        this(format, null, false, json);
    }

    private ToolCallExtractor(ToolCallFormat format, String forced, boolean chosen, ObjectMapper json) {
        this.format = format;
        this.forced = forced;
        this.chosen = chosen;
        this.json = json;
    }

    /**
     * For a call the request forced ({@code tool_choice} naming a function): the whole output, constrained to the
     * function's parameters schema, is that call's arguments, released at the end.
     *
     * @param function the forced function's name
     * @param json     parses the arguments
     * @return an extractor for one answer
     */
    public static ToolCallExtractor forced(String function, ObjectMapper json) {
        return new ToolCallExtractor(null, function, false, json);
    }

    /**
     * For {@code tool_choice: "required"}: the whole output, constrained to {@code {"name": ..., "arguments":
     * {...}}} over the offered functions, is one call, released at the end.
     *
     * @param json parses the call
     * @return an extractor for one answer
     */
    public static ToolCallExtractor required(ObjectMapper json) {
        return new ToolCallExtractor(null, null, true, json);
    }

    /**
     * The pieces that {@code text}, appended to what came before, makes certain.
     *
     * @param text the next piece of output
     * @return text and calls now known, in order
     */
    public List<Piece> push(String text) {
        pending.append(text);
        List<Piece> out = new ArrayList<>(2);
        if (forced != null || chosen) {
            return out;
        }
        if (format == ToolCallFormat.HERMES) {
            hermes(out);
        } else {
            llama(out);
        }
        return out;
    }

    /**
     * {@link #push} of {@code text}, followed by {@link #finish} when it is the output's {@code last} piece.
     *
     * @param text the next piece of output
     * @param last whether it ends the output
     * @return text and calls now known, in order
     */
    public List<Piece> push(String text, boolean last) {
        List<Piece> out = push(text);
        if (last) {
            out = new ArrayList<>(out);
            out.addAll(finish());
        }
        return out;
    }

    /**
     * Everything still held back, at the end of the output: an unfinished call is tried as it stands.
     *
     * @return the remaining text and calls
     */
    public List<Piece> finish() {
        List<Piece> out = new ArrayList<>(1);
        String rest = pending.toString();
        pending.setLength(0);
        if (forced != null) {
            // NOTE: output cut by max_tokens is not valid JSON; it is passed on as it is, as OpenAI does.
            JsonNode args = parse(rest.strip());
            out.add(new Call(call(forced, args == null ? json.getNodeFactory().textNode(rest) : args)));
        } else if (chosen) {
            JsonNode choice = parse(rest.strip());
            if (choice != null && choice.path("name").isTextual()) {
                out.add(new Call(call(choice.get("name").asText(), choice.get("arguments"))));
            } else if (!rest.isEmpty()) {
                out.add(new Text(rest));
            }
        } else if (format == ToolCallFormat.HERMES && insideCall) {
            // NOTE: a model may stop (EOS) right after the JSON without the closing tag.
            insideCall = false;
            out.add(hermesCall(rest).<Piece>map(Call::new).orElse(new Text(OPEN + rest)));
        } else if (format == ToolCallFormat.LLAMA3_JSON && llama == LlamaMode.CALLS) {
            List<ToolCall> parsed = llamaCalls(rest);
            if (parsed == null) {
                out.add(new Text(rest));
            } else {
                parsed.forEach(c -> out.add(new Call(c)));
            }
        } else if (!rest.isEmpty()) {
            out.add(new Text(rest));
        }
        return out;
    }

    /**
     * Whether any call was released so far.
     *
     * @return true after the first call
     */
    public boolean sawCalls() {
        return calls > 0;
    }

    private void hermes(List<Piece> out) {
        while (true) {
            if (!insideCall) {
                int at = pending.indexOf(OPEN);
                if (at < 0) {
                    int keep = partialTagLength();
                    text(out, pending.length() - keep);
                    return;
                }
                text(out, at);
                pending.delete(0, OPEN.length());
                insideCall = true;
            } else {
                int at = pending.indexOf(CLOSE);
                if (at < 0) {
                    return;
                }
                String body = pending.substring(0, at);
                pending.delete(0, at + CLOSE.length());
                insideCall = false;
                out.add(hermesCall(body).<Piece>map(Call::new).orElse(new Text(OPEN + body + CLOSE)));
            }
        }
    }

    /** Length of the longest end of {@code pending} that could be the start of {@link #OPEN}. */
    private int partialTagLength() {
        for (int k = Math.min(OPEN.length() - 1, pending.length()); k > 0; k--) {
            if (OPEN.startsWith(pending.substring(pending.length() - k))) {
                return k;
            }
        }
        return 0;
    }

    private void text(List<Piece> out, int upTo) {
        if (upTo > 0) {
            out.add(new Text(pending.substring(0, upTo)));
            pending.delete(0, upTo);
        }
    }

    private java.util.Optional<ToolCall> hermesCall(String body) {
        JsonNode node = parse(body.strip());
        if (node == null || !node.path("name").isTextual()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(call(node.get("name").asText(), node.get("arguments")));
    }

    private void llama(List<Piece> out) {
        if (llama == LlamaMode.UNDECIDED) {
            String s = pending.toString().stripLeading();
            if (s.isEmpty() || PYTHON_TAG.startsWith(s)) {
                return;
            }
            llama = s.startsWith("{") || s.startsWith(PYTHON_TAG) ? LlamaMode.CALLS : LlamaMode.TEXT;
        }
        if (llama == LlamaMode.TEXT) {
            text(out, pending.length());
        }
    }

    /** The calls in a Llama answer, or null when it is not (only) calls. */
    private List<ToolCall> llamaCalls(String answer) {
        String s = answer.strip();
        if (s.startsWith(PYTHON_TAG)) {
            s = s.substring(PYTHON_TAG.length()).strip();
        }
        List<ToolCall> out = new ArrayList<>();
        for (String part : LLAMA_SEPARATOR.split(s)) {
            JsonNode node = parse(part);
            if (node == null || !node.path("name").isTextual()) {
                return null;
            }
            JsonNode args = node.has("parameters") ? node.get("parameters") : node.get("arguments");
            out.add(call(node.get("name").asText(), args));
        }
        return out;
    }

    private ToolCall call(String name, JsonNode arguments) {
        calls++;
        String args;
        if (arguments == null || arguments.isNull()) {
            args = "{}";
        } else if (arguments.isTextual()) {
            // NOTE: some models write the arguments as a JSON string; clients expect the object's text either way.
            args = arguments.asText();
        } else {
            args = arguments.toString();
        }
        return new ToolCall("call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24), name, args);
    }

    private JsonNode parse(String text) {
        try {
            // NOTE: trailing text after the object means it was not (only) a call.
            JsonNode n = json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(text);
            return n != null && n.isObject() ? n : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
