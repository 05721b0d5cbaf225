package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hundreds of bad bodies, generated deterministically by mutating a valid {@code /v1/completions} and
 * {@code /v1/chat/completions} body (wrong types, huge, negative and non-finite numbers, lone surrogates, raw invalid
 * UTF-8, truncation, unknown fields, deep nesting, empty bodies, wrong content types), sent over real HTTP. Every
 * mutation known to be invalid must be a 4xx in OpenAI's error shape with a non-blank message; seeded random byte
 * mutations, which may happen to stay valid, must be a 200 or such a 4xx, never a 5xx. Afterwards a good request
 * still works and the engine has nothing in flight and no KV blocks in use.
 */
class MalformedRequestFuzzTest {

    private static final long SEED = 0xB01_C4EADL;
    private static final int RANDOM_MUTATIONS = 160;
    private static final long LIMIT = 64 * 1024;
    private static final String COMPLETIONS = "/v1/completions";
    private static final String CHAT = "/v1/chat/completions";

    private final ObjectMapper json = new ObjectMapper();

    /** {@code invalid}: must be a 4xx; otherwise a 200 is allowed too. */
    private record Case(String name, String path, byte[] body, String contentType, boolean invalid) {
    }

    private static Map<String, String> completionBase() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", "\"stories260K\"");
        m.put("prompt", "\"Once upon a time\"");
        m.put("max_tokens", "4");
        m.put("temperature", "0");
        m.put("top_p", "1");
        m.put("presence_penalty", "0");
        m.put("frequency_penalty", "0");
        m.put("seed", "7");
        m.put("stop", "[\"\\n\\n\"]");
        m.put("stream", "false");
        m.put("n", "1");
        m.put("user", "\"fuzz\"");
        m.put("stop_token_ids", "[]");
        return m;
    }

    private static Map<String, String> chatBase() {
        Map<String, String> m = completionBase();
        m.remove("prompt");
        m.remove("max_tokens");
        Map<String, String> out = new LinkedHashMap<>();
        out.put("model", m.remove("model"));
        out.put("messages",
                "[{\"role\":\"system\",\"content\":\"Tell a story.\"},{\"role\":\"user\",\"content\":\"Hi\"}]");
        out.put("max_completion_tokens", "4");
        out.putAll(m);
        return out;
    }

    private static String render(Map<String, String> fields) {
        StringBuilder sb = new StringBuilder("{");
        fields.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
        return sb.append('}').toString();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // Values that are not JSON at all (or break the parser's limits): invalid in any field.
    private static final List<String> NOT_JSON = List.of("NaN", "Infinity", "-Infinity", "+1", "01", "1.", ".5",
            "0x10", "'single'", "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"raw \u0001 control\"",
            "/* c */ 1", "1".repeat(2000), "[" .repeat(2000) + "]".repeat(2000), "undefined");

    /** For each field, values that must be rejected there (beyond {@link #NOT_JSON}). */
    private static Map<String, List<String>> invalidValues(boolean chat) {
        List<String> notString = List.of("5", "-1", "1.5", "true", "false", "[]", "{}", "[\"a\"]", "{\"a\":1}");
        List<String> notInt = List.of("\"5\"", "true", "[]", "{}", "1.5", "-1", "0", "1e309", "-1e309",
                "2147483648", "-2147483649", "9223372036854775808", "100000", "[4]", "{\"v\":4}");
        List<String> notBool = List.of("\"true\"", "1", "0", "[]", "{}", "[true]", "-1");
        Map<String, List<String>> m = new LinkedHashMap<>();
        List<String> model = new ArrayList<>(notString);
        model.addAll(List.of("null", "\"\"", "\"   \"", "\"no-such-model\"", "\"stories260K \"", "\"\\ud800\""));
        m.put("model", model);
        if (chat) {
            m.put("messages", List.of("null", "\"Hi\"", "5", "true", "{}", "[]", "[1]", "[\"Hi\"]", "[[]]", "[null]",
                    "[{}]", "[{\"content\":\"Hi\"}]", "[{\"role\":\"wizard\",\"content\":\"Hi\"}]",
                    "[{\"role\":5,\"content\":\"Hi\"}]", "[{\"role\":\"user\",\"content\":5}]",
                    "[{\"role\":\"user\",\"content\":{}}]", "[{\"role\":\"user\",\"content\":true}]",
                    "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":\"x\"}]}]",
                    "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}]",
                    "[{\"role\":\"user\",\"content\":[\"Hi\"]}]", "[{\"role\":\"user\",\"content\":\"Hi\",\"x\":1}]",
                    "[{\"role\":\"user\",\"content\":\"Hi\",\"name\":5}]",
                    "[{\"role\":\"user\",\"content\":\"Hi\",\"tool_calls\":[]}]",
                    "[{\"role\":\"tool\",\"content\":\"Hi\"}]", "[{\"role\":\"tool\",\"content\":\"x\",\"tool_call_id\":5}]",
                    "[{\"role\":\"assistant\",\"tool_calls\":5}]", "[{\"role\":\"assistant\",\"tool_calls\":[5]}]",
                    "[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]}]"));
            m.put("max_completion_tokens", notInt);
            String fn = "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}";
            m.put("tools", List.of("5", "\"f\"", "{}", "[]", "[5]", "[{}]", "[{\"type\":\"function\"}]",
                    "[{\"type\":\"code\",\"function\":{\"name\":\"f\"}}]",
                    "[{\"type\":\"function\",\"function\":{\"name\":\"bad name\"}}]",
                    "[{\"type\":\"function\",\"function\":{\"name\":5}}]",
                    "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":5}}]",
                    "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"x\":1}}]",
                    "[" + fn + "," + fn + "]", "[" + fn + "]"));
            m.put("tool_choice", List.of("5", "\"sometimes\"", "{}", "[]", "\"auto\"", "\"required\"",
                    "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}"));
            m.put("parallel_tool_calls", notBool);
            m.put("response_format", List.of("5", "\"json\"", "[]", "{}", "{\"type\":5}", "{\"type\":\"xml\"}",
                    "{\"type\":\"text\",\"x\":1}", "{\"type\":\"json_schema\"}",
                    "{\"type\":\"json_schema\",\"json_schema\":5}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":5}}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"wat\"}}}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"minimum\":1}}}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"$ref\":\"#/nope\"}}}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"required\":[\"a\"]}}}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                            + "{\"type\":\"array\",\"items\":".repeat(900) + "{}" + "}".repeat(900) + "}}"));
        } else {
            m.put("prompt", List.of("null", "5", "-1", "1.5", "true", "{}", "{\"a\":1}", "[]", "[true]", "[{}]",
                    "[\"a\",1]", "[[1],\"a\"]", "[[]]", "[[1.5]]", "[[\"a\"]]", "[[[1]]]", "[[1],[-1]]",
                    "[1.5]", "[1,\"a\"]", "[4294967296]", "[1e309]", "[null]",
                    "[-1]", "[1,-5,2]", "[100000]", "[2147483647]", "[-2147483648]"));
            m.put("max_tokens", notInt);
        }
        List<String> notNumber = List.of("\"0.5\"", "true", "[]", "{}", "[0.5]", "\"NaN\"");
        m.put("temperature", concat(notNumber, List.of("-1", "-0.0001", "101", "1e309", "-1e309", "1e39")));
        m.put("top_p", concat(notNumber, List.of("-1", "0", "-0.0", "1.5", "1e309", "1e-50")));
        m.put("presence_penalty", concat(notNumber, List.of("-3", "3", "1e309", "-1e309", "1e39")));
        m.put("frequency_penalty", concat(notNumber, List.of("-2.5", "2.5", "1e309", "-1e39")));
        m.put("seed", List.of("\"7\"", "true", "[]", "{}", "1.5", "1e309", "18446744073709551616",
                "-9223372036854775809", "[7]"));
        m.put("stop", List.of("5", "true", "{}", "[1]", "[[]]", "[null]", "[\"\"]", "\"\"", "[\"a\",5]",
                "\"" + "x".repeat(300) + "\"", stopList(17), "[{\"s\":1}]"));
        m.put("stream", notBool);
        m.put("n", List.of("9", "0", "-1", "\"1\"", "1.5", "true", "[1]", "2147483648"));
        m.put("user", notString);
        m.put("stop_token_ids", List.of("5", "\"1\"", "{}", "[-1]", "[1.5]", "[\"a\"]", "[4294967296]", "[null]",
                "[[1]]", intList(129)));
        return m;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static String stopList(int n) {
        List<String> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add("\"s" + i + "\"");
        }
        return "[" + String.join(",", s) + "]";
    }

    private static String intList(int n) {
        List<String> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(Integer.toString(i));
        }
        return "[" + String.join(",", s) + "]";
    }

    /** Values with lone surrogates (escaped, so the bytes are valid UTF-8): refused with a 400; a real pair is fine. */
    private static final List<String> SURROGATES = List.of("\"\\ud800\"", "\"a\\udc00b\"", "\"\\udfff\\ud800\"",
            "\"x\\ud83d\"", "\"\\ud83d\\ude00 ok\"");

    /** Raw byte sequences that are not UTF-8 (including CESU-8 surrogates and overlong forms). */
    private static final byte[][] BAD_UTF8 = {
        {(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xFE, (byte) 0xFF}, {(byte) 0x80}, {(byte) 0xC0, (byte) 0xAF},
        {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xE2, (byte) 0x82}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
    };

    /** The string a JSON string literal denotes. */
    private static String jsonString(String literal) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(literal, String.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    private static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (boolean chat : new boolean[] {false, true}) {
            String path = chat ? CHAT : COMPLETIONS;
            String tag = chat ? "chat" : "cmpl";
            Map<String, String> base = chat ? chatBase() : completionBase();
            String good = render(base);
            out.add(new Case(tag + " baseline (valid)", path, utf8(good), "application/json", false));
            // 1. each field's value replaced by each wrong type / out-of-range / non-JSON value
            invalidValues(chat).forEach((field, values) -> {
                List<String> all = concat(values, field.equals("model") ? NOT_JSON : NOT_JSON.subList(0, 6));
                for (String v : all) {
                    Map<String, String> m = new LinkedHashMap<>(base);
                    m.put(field, v);
                    out.add(new Case(tag + " " + field + "=" + abbreviate(v), path, utf8(render(m)),
                            "application/json", true));
                }
            });
            // the rest of NOT_JSON, once each, in the field most likely to reach deep parsing
            for (String v : NOT_JSON) {
                Map<String, String> m = new LinkedHashMap<>(base);
                m.put("user", v);
                out.add(new Case(tag + " user=" + abbreviate(v), path, utf8(render(m)), "application/json", true));
            }
            // 2. required fields missing
            for (String f : List.of("model", chat ? "messages" : "prompt")) {
                Map<String, String> m = new LinkedHashMap<>(base);
                m.remove(f);
                out.add(new Case(tag + " missing " + f, path, utf8(render(m)), "application/json", true));
            }
            // 3. unknown fields, including the other endpoint's fields and unsupported OpenAI ones
            for (String f : List.of("bogus", "Model", "model ", "", "\\u0000", chat ? "prompt" : "messages",
                    chat ? "max_tokenz" : "max_completion_tokens", "tools", "functions", "response_format",
                    "logit_bias", "best_of", "echo", "suffix", "__proto__", "x".repeat(1000))) {
                Map<String, String> m = new LinkedHashMap<>(base);
                m.put(f, "1");
                out.add(new Case(tag + " unknown field '" + abbreviate(f) + "'", path, utf8(render(m)),
                        "application/json", true));
            }
            Map<String, String> so = new LinkedHashMap<>(base);
            so.put("stream_options", "{\"include_usage\":true,\"bogus\":1}");
            out.add(new Case(tag + " stream_options.bogus", path, utf8(render(so)), "application/json", true));
            so.put("stream_options", "{\"include_usage\":\"yes\"}");
            out.add(new Case(tag + " stream_options.include_usage=\"yes\"", path, utf8(render(so)),
                    "application/json", true));
            so.put("stream_options", "[]");
            out.add(new Case(tag + " stream_options=[]", path, utf8(render(so)), "application/json", true));
            so.put("logprobs", "true");
            out.add(new Case(tag + " logprobs=true", path, utf8(render(so)), "application/json", true));
            // 4. deep nesting: in an unknown field, in a known one, and as the whole body
            for (int depth : new int[] {100, 1_001, 5_000}) {
                String nested = "[".repeat(depth) + "]".repeat(depth);
                String nestedObj = "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
                for (String f : List.of("deep", "user", chat ? "messages" : "prompt")) {
                    Map<String, String> m = new LinkedHashMap<>(base);
                    m.put(f, f.equals("user") ? nestedObj : nested);
                    out.add(new Case(tag + " " + f + " nested " + depth, path, utf8(render(m)), "application/json",
                            true));
                }
                out.add(new Case(tag + " body nested " + depth, path, utf8(nested), "application/json", true));
            }
            // 5. whole bodies that are not one JSON object
            for (String body : List.of("", " ", "\n\t ", "null", "true", "1", "\"str\"", "[]", "[" + good + "]",
                    good + good, good + "x", good + ",", good + "}", "{" + good, "{}", "{,}", "{\"model\"}",
                    good.replace("\"model\":", "model:"), good.replace('"', '\''),
                    "{\"model\":\"a\",\"model\":\"stories260K\"," + good.substring(1),
                    "\uFEFF" + good.substring(0, good.length() - 1), "model=stories260K&prompt=Hi")) {
                out.add(new Case(tag + " body " + abbreviate(body), path, utf8(body), "application/json", true));
            }
            // 6. truncation at every 3rd byte (a truncated object is never complete)
            byte[] goodBytes = utf8(good);
            for (int k = 0; k < goodBytes.length - 1; k += 3) {
                out.add(new Case(tag + " truncated at " + k, path, Arrays.copyOf(goodBytes, k), "application/json",
                        true));
            }
            // 7. raw invalid UTF-8, inside a string value, inside a key, and between tokens
            String marker = chat ? "Hi\"}]" : "Once upon";
            int inString = good.indexOf(marker) + 1;
            int inKey = good.indexOf("\"model\"") + 3;
            int between = good.indexOf(',');
            for (byte[] bad : BAD_UTF8) {
                for (int at : new int[] {inString, inKey, between, goodBytes.length - 1}) {
                    byte[] b = new byte[goodBytes.length + bad.length];
                    System.arraycopy(goodBytes, 0, b, 0, at);
                    System.arraycopy(bad, 0, b, at, bad.length);
                    System.arraycopy(goodBytes, at, b, at + bad.length, goodBytes.length - at);
                    out.add(new Case(tag + " invalid UTF-8 " + hex(bad) + " at " + at, path, b, "application/json",
                            true));
                }
            }
            // 8. the body in UTF-16 / UTF-32 (not UTF-8: either invalid UTF-8 or NULs that are not JSON)
            out.add(new Case(tag + " body in UTF-16LE", path, good.getBytes(StandardCharsets.UTF_16LE),
                    "application/json; charset=utf-16", true));
            out.add(new Case(tag + " body in UTF-16 with BOM", path, good.getBytes(StandardCharsets.UTF_16),
                    "application/json", true));
            // 9. wrong content types: junk bodies are still refused; a good body may be served
            for (String ct : List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; "
                    + "boundary=x", "application/octet-stream", "application/xml")) {
                out.add(new Case(tag + " " + ct + " junk", path, utf8(ct.startsWith("multipart")
                        ? "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nstories260K\r\n--x--\r\n"
                        : ct.contains("xml") ? "<model>stories260K</model>" : "model=stories260K&prompt=Hi"), ct,
                        true));
                out.add(new Case(tag + " " + ct + " good body", path, utf8(good), ct, false));
            }
            // 10. lone surrogates in every string the request carries: served or refused, never a 5xx
            for (String s : SURROGATES) {
                for (String f : List.of(chat ? "messages" : "prompt", "stop", "user")) {
                    Map<String, String> m = new LinkedHashMap<>(base);
                    m.put(f, f.equals("messages") ? "[{\"role\":\"user\",\"content\":" + s + "}]"
                            : f.equals("stop") ? "[" + s + "]" : s);
                    // NOTE: a lone surrogate is a 400 naming the field; the one well-formed pair is served.
                    out.add(new Case(tag + " " + f + " surrogate " + s, path, utf8(render(m)), "application/json",
                            WellFormedText.loneSurrogate(jsonString(s)) >= 0));
                }
            }
            // 11. seeded random byte mutations (flip, insert, delete, duplicate a span): may happen to be valid
            SplittableRandom rnd = new SplittableRandom(SEED + (chat ? 1 : 0));
            for (int i = 0; i < RANDOM_MUTATIONS / 2; i++) {
                out.add(new Case(tag + " random mutation " + i, path, mutate(goodBytes, rnd), "application/json",
                        false));
            }
        }
        // 12. a body past the limit
        out.add(new Case("cmpl body over the limit", COMPLETIONS, utf8("{\"model\":\"stories260K\",\"prompt\":\""
                + "a".repeat((int) LIMIT) + "\"}"), "application/json", true));
        return out;
    }

    private static byte[] mutate(byte[] good, SplittableRandom rnd) {
        byte[] b = good.clone();
        int edits = 1 + rnd.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(4)) {
                case 0 -> b[at] = (byte) rnd.nextInt(256);
                case 1 -> {
                    byte[] n = new byte[b.length + 1];
                    System.arraycopy(b, 0, n, 0, at);
                    n[at] = (byte) "{}[]\",:0123456789-.eE\\tfn\u00ff".charAt(rnd.nextInt(26));
                    System.arraycopy(b, at, n, at + 1, b.length - at);
                    b = n;
                }
                case 2 -> {
                    if (b.length > 2) {
                        byte[] n = new byte[b.length - 1];
                        System.arraycopy(b, 0, n, 0, at);
                        System.arraycopy(b, at + 1, n, at, b.length - at - 1);
                        b = n;
                    }
                }
                default -> {
                    int len = Math.min(1 + rnd.nextInt(12), b.length - at);
                    byte[] n = new byte[b.length + len];
                    System.arraycopy(b, 0, n, 0, at + len);
                    System.arraycopy(b, at, n, at + len, b.length - at);
                    b = n;
                }
            }
        }
        return b;
    }

    private static String abbreviate(String s) {
        String t = s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r");
        return t.length() <= 40 ? t : t.substring(0, 30) + "...(" + t.length() + " chars)";
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02X", x & 0xFF));
        }
        return sb.toString();
    }

    @Test
    @Timeout(120)
    void badBodiesAre4xxWithAClearMessageAndLeakNothing() throws Exception {
        List<Case> cases = cases();
        assertThat(cases.size()).isGreaterThan(500);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int invalid = 0;
        try (ServerFixture fx = new ServerFixture(ServerConfig.local(0).withMaxBodyBytes(LIMIT))) {
            for (Case c : cases) {
                invalid += c.invalid() ? 1 : 0;
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(fx.uri(c.path()))
                        .header("Content-Type", c.contentType()).timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(c.body())).build(),
                        HttpResponse.BodyHandlers.ofString());
                int s = r.statusCode();
                statuses.merge(s, 1, Integer::sum);
                String problem = check(c, r);
                if (problem != null) {
                    failures.add(c.name() + ": " + problem);
                }
            }
            System.out.printf("MalformedRequestFuzzTest: %d bodies (%d known-invalid, %d may be valid), statuses %s%n",
                    cases.size(), invalid, cases.size() - invalid, statuses);
            assertThat(failures).as("%d of %d cases misbehaved", failures.size(), cases.size()).isEmpty();
            assertThat(invalid).isGreaterThanOrEqualTo(400);

            HttpResponse<String> good = fx.post(COMPLETIONS, "{\"model\":\"stories260K\",\"prompt\":\"Once\","
                    + "\"max_tokens\":5,\"temperature\":0,\"ignore_eos\":true}");
            assertThat(good.statusCode()).as(good.body()).isEqualTo(200);
            assertThat(json.readTree(good.body()).get("usage").get("completion_tokens").asInt()).isEqualTo(5);
            HttpResponse<String> goodChat = fx.post(CHAT, render(chatBase()));
            assertThat(goodChat.statusCode()).as(goodChat.body()).isEqualTo(200);
            fx.assertIdleWithin(10_000);
        }
    }

    /** Null when the response is right for the case, else what is wrong. */
    private String check(Case c, HttpResponse<String> r) {
        int s = r.statusCode();
        if (s >= 500) {
            return "status " + s + " " + r.body();
        }
        if (c.invalid() && !(s >= 400 && s < 500)) {
            return "expected a 4xx, got " + s + " " + abbreviate(r.body());
        }
        if (s == 200) {
            return null;
        }
        if (s < 400) {
            return "status " + s;
        }
        if (!r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
            return "error Content-Type " + r.headers().firstValue("Content-Type");
        }
        try {
            JsonNode err = json.readTree(r.body()).get("error");
            if (err == null || !err.isObject()) {
                return "no error object: " + abbreviate(r.body());
            }
            if (!err.path("message").isTextual() || err.get("message").asText().isBlank()) {
                return "blank message: " + r.body();
            }
            if (!err.path("type").isTextual() || !err.has("param") || !err.has("code")) {
                return "error lacks type/param/code: " + r.body();
            }
        } catch (Exception e) {
            return "error body is not JSON: " + abbreviate(r.body());
        }
        return null;
    }
}
