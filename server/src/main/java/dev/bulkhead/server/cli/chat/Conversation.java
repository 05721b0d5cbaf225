package dev.bulkhead.server.cli.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The messages of one chat: an optional system prompt, then user and assistant messages in turn. Saved and
 * loaded as {@code {"messages": [{"role": ..., "content": ...}, ...]}}, the shape of an OpenAI request.
 */
public final class Conversation {

    private static final Set<String> ROLES = Set.of("system", "user", "assistant");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private String system;
    private final List<Message> turns = new ArrayList<>();

    /** One message; {@code role} is user or assistant (the system prompt is kept apart). */
    record Message(String role, String content) {
    }

    /** A conversation with the given system prompt (null or blank for none). */
    public Conversation(String system) {
        setSystem(system);
    }

    /** Replaces the system prompt; null or blank removes it. */
    public void setSystem(String text) {
        system = text == null || text.isBlank() ? null : text;
    }

    /** The system prompt, or null. */
    public String system() {
        return system;
    }

    void addUser(String content) {
        turns.add(new Message("user", content));
    }

    void addAssistant(String content) {
        turns.add(new Message("assistant", content));
    }

    /** Takes back the last message (a user turn that got no answer). */
    void removeLast() {
        turns.removeLast();
    }

    /** Messages after the system prompt. */
    public int size() {
        return turns.size();
    }

    /** Forgets every message but the system prompt; returns how many were forgotten. */
    int clear() {
        int n = turns.size();
        turns.clear();
        return n;
    }

    /**
     * Drops the oldest turn (a user message and the answer to it) unless only the newest user message is left;
     * returns whether something was dropped.
     */
    boolean dropOldestTurn() {
        if (turns.size() <= 1) {
            return false;
        }
        turns.removeFirst();
        // NOTE: a turn is a user message and its answer; dropping both keeps the roles alternating.
        if (turns.size() > 1 && turns.getFirst().role().equals("assistant")) {
            turns.removeFirst();
        }
        return true;
    }

    /** The messages as a chat template takes them: the system prompt first, when there is one. */
    public List<Map<String, Object>> messages() {
        List<Map<String, Object>> out = new ArrayList<>();
        if (system != null) {
            out.add(message("system", system));
        }
        for (Message m : turns) {
            out.add(message(m.role(), m.content()));
        }
        return out;
    }

    /** Writes the conversation to {@code file} as JSON. */
    public void save(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            JSON.writeValue(file.toFile(), Map.of("messages", messages()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a conversation written by {@link #save}; the error names the file and the bad field. */
    public static Conversation load(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        JsonNode messages = root == null ? null : root.get("messages");
        if (messages == null || !messages.isArray()) {
            throw new IllegalArgumentException(file + ": expected {\"messages\": [...]} as written by /save");
        }
        Conversation c = new Conversation(null);
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText("");
            if (!ROLES.contains(role)) {
                throw new IllegalArgumentException(file + ": messages[" + i + "].role must be system, user or "
                        + "assistant, got '" + role + "'");
            }
            if (!m.path("content").isTextual()) {
                throw new IllegalArgumentException(file + ": messages[" + i + "].content must be a string");
            }
            String content = m.get("content").asText();
            if (role.equals("system")) {
                if (i != 0) {
                    throw new IllegalArgumentException(file + ": messages[" + i + "] is a system message; only "
                            + "messages[0] may be one");
                }
                c.setSystem(content);
            } else {
                c.turns.add(new Message(role, content));
            }
        }
        return c;
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
