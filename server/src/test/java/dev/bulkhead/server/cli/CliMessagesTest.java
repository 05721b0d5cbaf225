package dev.bulkhead.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import org.junit.jupiter.api.io.TempDir;

/** Mistakes a new user makes get one line that says what is wrong, not a stack trace or the whole usage. */
class CliMessagesTest {

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BulkheadCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void anEndpointWithoutSchemeIsOneLineSuggestingTheUrl() {
        Run r = cli("pull", "org/x", "--endpoint", "127.0.0.1:18080", "--cache", tmp.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().lines().toList()).first().asString()
                .isEqualTo("bulkhead: error: --endpoint must be an http(s) URL with a host, got '127.0.0.1:18080' "
                        + "(did you mean http://127.0.0.1:18080 ?)");
        assertThat(r.err()).doesNotContain("Usage:");
    }

    @Test
    void anUnknownOptionIsOneLinePointingAtHelp() {
        Run r = cli("pull", "org/x", "--no-such-flag");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("bulkhead: error: Unknown option: '--no-such-flag' (see 'bulkhead pull --help')");
    }

    @Test
    void aMissingChatTemplateFileSaysSo() {
        Path missing = tmp.resolve("missing.jinja");
        Run r = cli("chat", "--chat-template", missing.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("bulkhead: error: --chat-template " + missing + ": no such file");
        Run dir = cli("chat", "--chat-template", tmp.toString());
        assertThat(dir.err()).contains(": is a directory, not a Jinja file");
    }

    @Test
    void aKvCacheSizeThatIsNeitherAutoNorPositiveIsOneLineBeforeAnyModelLoads() {
        for (String bad : new String[] {"lots", "0", "-5", "1.5"}) {
            Run r = cli("serve", "--port", "0", "--kv-cache-mb", bad);
            assertThat(r.code()).as(bad).isEqualTo(1);
            assertThat(r.err().lines().toList()).first().asString().isEqualTo("bulkhead: error: --kv-cache-mb must be auto or a whole number of "
                    + "MB >= 1, got '" + bad + "'");
            assertThat(r.err()).doesNotContain("Usage:").doesNotContain("\tat ");
        }
    }

    @Test
    void kvCacheMbIsAutoOrMegabytes() {
        assertThat(ServeCommand.kvCacheBytes("auto")).isEqualTo(dev.bulkhead.engine.EngineOptions.KV_CACHE_AUTO);
        assertThat(ServeCommand.kvCacheBytes(" AUTO ")).isEqualTo(dev.bulkhead.engine.EngineOptions.KV_CACHE_AUTO);
        assertThat(ServeCommand.kvCacheBytes("16")).isEqualTo(16L << 20);
        assertThat(new CommandLine(new BulkheadCli()).getSubcommands().get("serve").getCommandSpec()
                .findOption("--kv-cache-mb").defaultValue()).isEqualTo("auto");
    }

    /**
     * A description written as several strings is printed as several lines, each wrapped on its own: at 80 columns
     * that leaves a short line in mid-sentence. One string per description lets picocli wrap the whole text.
     */
    @Test
    void helpTextsAreNotBrokenMidSentence() {
        CommandLine root = new CommandLine(new BulkheadCli());
        for (CommandLine command : root.getSubcommands().values()) {
            CommandSpec spec = command.getCommandSpec();
            if (spec.userObject() instanceof CommandLine.HelpCommand) {
                continue; // NOTE: picocli's own
            }
            assertThat(spec.usageMessage().description()).as(spec.qualifiedName()).hasSizeLessThanOrEqualTo(1);
            for (ArgSpec arg : spec.args()) {
                assertThat(arg.description()).as(spec.qualifiedName() + " " + arg.paramLabel()).hasSizeLessThanOrEqualTo(1);
            }
        }
    }
}
