package dev.bulkhead.server.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The API keys a server accepts as {@code Authorization: Bearer <key>}, each with an optional model allow list.
 * Only the SHA-256 of each key is kept in memory, and a presented token is compared with every key in constant
 * time, so neither a heap dump nor response timing gives a key away. No message this class writes contains a key.
 *
 * <p>Syntax, one key per entry (lines of a file; {@code ;}-separated entries of {@value #ENV} or any string given
 * to {@link #parse(String, String, String)}):
 * <pre>
 * # comment lines and blank entries are skipped; " #" starts a trailing comment
 * sk-ops-6f1d0c2a9e7b4410          # may use every model
 * sk-team-a-0b9e2d7c61f34a58  chat,small-v1   # may use these models (or aliases) only
 * </pre>
 * A key is at least {@value #MIN_KEY_LENGTH} characters of {@code A-Z a-z 0-9 . _ ~ + / = -}; an allow list of
 * {@code *} means every model.
 */
public final class ApiKeys {

    /** The environment variable {@code bulkhead serve} reads keys from when no key file is given. */
    public static final String ENV = "BULKHEAD_API_KEYS";
    /** Shortest key accepted, so that a typo or a placeholder never becomes a guessable key. */
    public static final int MIN_KEY_LENGTH = 16;

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._~+/=-]+");
    private static final Pattern TRAILING_COMMENT = Pattern.compile("\\s#.*$");
    private static final ApiKeys NONE = new ApiKeys(List.of());

    private final List<Entry> entries;

    private ApiKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /**
     * One accepted key, as a request carries it after authentication.
     *
     * @param fingerprint first 8 hex digits of the key's SHA-256: enough for an operator to tell keys apart, never
     *                    enough to use one
     * @param models      models or aliases the key may use; empty means every one
     */
    public record Key(String fingerprint, Set<String> models) {

        public Key {
            models = Set.copyOf(models);
        }

        /** Whether this key may use {@code model}. */
        public boolean allows(String model) {
            return models.isEmpty() || models.contains(model);
        }
    }

    private record Entry(byte[] sha256, Key key) {
    }

    /** No keys: the server is open (and binds only loopback unless told otherwise). */
    public static ApiKeys none() {
        return NONE;
    }

    /** Reads a key file (one entry a line); failures name the file and the line, never the key. */
    public static ApiKeys load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read API key file " + file + ": " + e.getMessage(), e);
        }
        ApiKeys keys = parse(text, "\\R", file.toString());
        if (!keys.enabled()) {
            // NOTE: an empty key file is almost certainly a mistake; serving openly because of it would be worse.
            throw new IllegalArgumentException("API key file " + file + " has no keys");
        }
        return keys;
    }

    /** Parses the value of {@value #ENV}: entries separated by {@code ;}. Blank means no keys. */
    public static ApiKeys fromEnv(String value) {
        return value == null ? NONE : parse(value, ";", ENV);
    }

    /**
     * Parses entries separated by the regex {@code separator}; {@code origin} names the source in error messages.
     *
     * @throws IllegalArgumentException naming the entry number of a malformed or repeated key
     */
    public static ApiKeys parse(String text, String separator, String origin) {
        List<Entry> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        String[] parts = text.split(separator, -1);
        for (int i = 0; i < parts.length; i++) {
            String entry = TRAILING_COMMENT.matcher(parts[i]).replaceFirst("").strip();
            if (entry.isEmpty() || entry.startsWith("#")) {
                continue;
            }
            String where = origin + " entry " + (i + 1);
            String[] fields = entry.split("\\s+", 2);
            String key = fields[0];
            if (!KEY.matcher(key).matches()) {
                throw new IllegalArgumentException(where + ": a key may only hold A-Z a-z 0-9 . _ ~ + / = -");
            }
            if (key.length() < MIN_KEY_LENGTH) {
                throw new IllegalArgumentException(where + ": a key must be at least " + MIN_KEY_LENGTH
                        + " characters, got " + key.length());
            }
            byte[] hash = sha256(key);
            if (!seen.add(HexFormat.of().formatHex(hash))) {
                throw new IllegalArgumentException(where + ": the same key is listed twice");
            }
            Set<String> models = fields.length == 1 ? Set.of() : models(fields[1], where);
            out.add(new Entry(hash, new Key(HexFormat.of().formatHex(hash, 0, 4), models)));
        }
        return out.isEmpty() ? NONE : new ApiKeys(out);
    }

    private static Set<String> models(String list, String where) {
        Set<String> models = new LinkedHashSet<>();
        for (String m : list.split(",")) {
            String name = m.strip();
            if (name.isEmpty() || name.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException(where + ": the allow list must be model names separated by "
                        + "commas, got '" + list + "'");
            }
            models.add(name);
        }
        return models.contains("*") ? Set.of() : models;
    }

    /** Whether any key is configured (then every {@code /v1/} request needs one). */
    public boolean enabled() {
        return !entries.isEmpty();
    }

    /** How many keys are configured. */
    public int size() {
        return entries.size();
    }

    /**
     * The key {@code token} is, if any. Every configured key is compared, in constant time each, whatever matches,
     * so the time taken says nothing about which key (or how much of one) was right.
     */
    public Optional<Key> authenticate(String token) {
        if (token == null) {
            return Optional.empty();
        }
        byte[] hash = sha256(token);
        Key match = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.sha256(), hash)) {
                match = e.key();
            }
        }
        return Optional.ofNullable(match);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "ApiKeys[" + entries.size() + " keys]";
    }
}
