package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.server.cli.BulkheadCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as a user drives it: JSON output, streaming, one-line errors with non-zero exit codes. */
class CliTest {

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BulkheadCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void generateJsonOnTheEmbeddedModel() throws Exception {
        Run r = run("generate", "--temperature", "0", "-n", "24", "--json", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("prompt_token_ids").size()).isEqualTo(1);
        assertThat(json.get("token_ids").size()).isEqualTo(24);
        assertThat(json.get("finish_reason").asText()).isEqualTo("length");
        assertThat(json.get("text").asText()).startsWith("Once upon a time");
        assertThat(json.at("/timings/decode_tok_per_s").asDouble()).isPositive();
        assertThat(json.at("/timings/load_ms").isNumber()).isTrue();
        Path ref = SharedData.root().resolve("models/stories260K-hf/reference_greedy.json");
        if (Files.exists(ref)) {
            JsonNode expected = new ObjectMapper().readTree(ref.toFile()).get("greedy_ids");
            assertThat(IntStream.range(0, 24).map(i -> json.get("token_ids").get(i).asInt()).toArray())
                    .containsExactly(IntStream.range(0, 24).map(i -> expected.get(i).asInt()).toArray());
        }
    }

    @Test
    void serveRefusesAKvCacheLargerThanTheHeapWithOneLine() {
        long tooBig = (Runtime.getRuntime().maxMemory() >> 20) + 1;
        Run r = run("serve", "--port", "0", "--kv-cache-mb", Long.toString(tooBig));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("bulkhead: error: --kv-cache-mb " + tooBig + " does not fit in this JVM's heap")
                .contains("BULKHEAD_JAVA_OPTS=-Xmx");
    }

    @Test
    void generateStreamsThePromptAndItsContinuation() {
        Run r = run("generate", "--prompt", "Once upon a time", "--seed", "7", "-n", "16", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Once upon a time");
        assertThat(r.out().length()).isGreaterThan("Once upon a time".length() + 10);
        // Same seed, same text.
        assertThat(run("generate", "--prompt", "Once upon a time", "--seed", "7", "-n", "16", "--threads", "1").out())
                .isEqualTo(r.out());
    }

    @Test
    void stopStringEndsTheOutput() throws Exception {
        Run r = run("generate", "--temperature", "0", "-n", "100", "--stop", "Lily", "--json");
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(json.get("text").asText()).doesNotContain("Lily").endsWith("named ");
    }

    @Test
    void errorsAreOneLineAndExitNonZero() {
        Run missing = run("generate", "--model", tmp.resolve("absent").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).startsWith("bulkhead: error: ").contains("absent: no such file or directory")
                .doesNotContain("\tat ");
        Run badTemp = run("generate", "--temperature", "-1");
        assertThat(badTemp.code()).isEqualTo(1);
        assertThat(badTemp.err()).contains("temperature must be in [0");
        Run verbose = run("generate", "--model", tmp.resolve("absent").toString(), "--verbose");
        assertThat(verbose.err()).contains("\tat ");
        Run usage = run("generate", "--no-such-flag");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("Unknown option: '--no-such-flag'");
    }

    @Test
    void makeModelWritesALoadableCheckpoint() throws Exception {
        Path out = tmp.resolve("tiny");
        Run r = run("make-model", "--shape", "tiny-llama", "--dtype", "bf16", "--out", out.toString(), "--seed", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out.resolve("config.json")).exists();
        Run gen = run("generate", "--model", out.toString(), "--temperature", "0", "-n", "8", "--json", "--ignore-eos");
        assertThat(gen.code()).as(gen.err()).isZero();
        assertThat(new ObjectMapper().readTree(gen.out()).get("token_ids").size()).isEqualTo(8);
    }

    @Test
    void chatRunsTurnsThroughATemplate() {
        Path template = SharedData.require("chat-templates/llama3.jinja");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.StringReader("Tell me a story\n/reset\nAgain\n/exit\n"));
        int code = BulkheadCli.run(new String[] {"chat", "--chat-template", template.toString(), "--temperature", "0",
                "-n", "12", "--system", "You tell stories."}, in, new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(code).as(err.toString()).isZero();
        // One prompt per input line (four), with generated answers after the two user turns.
        assertThat(out.toString().split(">>> ", -1).length).isGreaterThanOrEqualTo(5);
    }

    @Test
    void chatWorksOnTheEmbeddedModelOutOfTheBox() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.StringReader("Once upon a time\n/exit\n"));
        int code = BulkheadCli.run(new String[] {"chat", "--temperature", "0", "-n", "8"}, in,
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString().split(">>> ", -1)).hasSize(3);
    }

    @Test
    void chatWithoutATemplateSaysHowToGetOne() {
        Path gguf = SharedData.require("models/stories260K-gguf/stories260K.gguf");
        Run r = run("chat", "--model", gguf.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("has no chat template; pass --chat-template FILE");
    }

    @Test
    void deviceHelpNamesTheCudaEmulator() {
        for (String command : new String[] {"generate", "chat", "serve"}) {
            Run r = run(command, "--help");
            assertThat(r.code()).as(command).isZero();
            // NOTE: picocli wraps each description as one paragraph, so a phrase may span lines.
            assertThat(r.out().replaceAll("\\s+", " ")).as(command + " --help")
                    .contains("--device=auto|cpu|cuda[:N]|cuda-emulator").contains("cuda-emulator runs the CUDA backend");
        }
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("generate", "chat", "make-model");
    }
}
