package dev.bulkhead.server.cli;

import dev.bulkhead.model.LoadProgress;
import dev.bulkhead.model.hub.CachedModel;
import dev.bulkhead.model.hub.DownloadProgress;
import dev.bulkhead.model.hub.HubCache;
import dev.bulkhead.model.hub.HubClient;
import dev.bulkhead.model.hub.HubConfig;
import dev.bulkhead.model.hub.HubFileFilter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bulkhead pull}: download a model from the Hugging Face hub into the local cache. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = "Download a model from the Hugging Face hub into the local cache, resuming partial downloads and "
                    + "verifying checksums. Prints the model directory (usable as --model) on stdout. Token: HF_TOKEN "
                    + "or ~/.cache/huggingface/token. Hub: HF_ENDPOINT or --endpoint.")
final class PullCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ORG/NAME", description = "Hub repository id, e.g. HuggingFaceTB/SmolLM2-135M.")
    String repo;

    @Option(names = "--revision", defaultValue = "main", paramLabel = "REV",
            description = "Branch, tag or commit (default: ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--include", paramLabel = "GLOB",
            description = "Download only files matching this glob (repeatable), matched as huggingface-cli does: * also "
                    + "crosses /, so *.onnx matches onnx/model.onnx; DIR/ takes a whole folder. Default: config.json, "
                    + "generation_config.json, tokenizer*.json, special_tokens_map.json and the *.safetensors weights "
                    + "with their index, at the top of the repository.")
    List<String> include;

    @Option(names = "--cache", paramLabel = "DIR",
            description = "Cache directory (default: $BULKHEAD_CACHE, $XDG_CACHE_HOME/bulkhead/hub or ~/.cache/bulkhead/hub).")
    Path cache;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub URL (default: $HF_ENDPOINT or https://huggingface.co).")
    String endpoint;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "${env:HF_HUB_DOWNLOAD_TIMEOUT:-10}",
            description = "A download that receives nothing for this long is dropped and resumed where it stopped "
                    + "(default: ${DEFAULT-VALUE}; HF_HUB_DOWNLOAD_TIMEOUT).")
    double timeout;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        HubConfig config = HubConfig.fromEnvironment();
        if (endpoint != null) {
            config = config.withEndpoint(HubConfig.parseEndpoint(endpoint, "--endpoint"));
        }
        if (!(timeout > 0) || timeout > 3600) {
            throw new IllegalArgumentException("--timeout must be in (0, 3600] seconds, got " + timeout);
        }
        HubCache hubCache = cache != null ? new HubCache(cache) : HubCache.defaultCache();
        err.printf("pulling %s@%s from %s into %s%n", repo, revision, config.endpoint(), hubCache.root());
        err.flush();
        long start = System.nanoTime();
        boolean terminal = isTerminal();
        CachedModel model = new HubClient(config, Duration.ofMillis(Math.round(timeout * 1000))).pull(repo, revision,
                HubFileFilter.ofIncludes(include), hubCache, new ProgressBar(err, terminal, "downloading",
                        terminal ? Terminals.stderrColumns() : Terminals.DEFAULT_COLUMNS));
        err.printf("pulled %s (%s) in %.1f s%n", repo, ModelsCommand.humanBytes(model.sizeBytes()),
                (System.nanoTime() - start) / 1e9);
        List<String> missing = hubCache.missing(model);
        if (!missing.isEmpty()) {
            err.printf("note: this is not a complete model (no %s); pull without --include to get one%n",
                    String.join(", ", missing));
        }
        err.flush();
        spec.commandLine().getOut().println(model.path());
        spec.commandLine().getOut().flush();
        return 0;
    }

    static boolean isTerminal() {
        return Terminals.isInteractive();
    }

    /**
     * Draws one bar per file, redrawn in place with {@code \r} on a terminal; elsewhere (logs, CI) one
     * line when a file starts and one when it ends, so the output stays readable.
     */
    static final class ProgressBar implements DownloadProgress, LoadProgress {

        private static final int MAX_BAR = 30;
        private static final int MAX_NAME = 28;
        private static final long REDRAW_NANOS = 100_000_000L;

        private final PrintWriter err;
        private final boolean terminal;
        private final String verb;
        private final int columns;
        private String file;
        private long startNanos;
        private long startBytes;
        private long lastDraw;

        ProgressBar(PrintWriter err, boolean terminal) {
            this(err, terminal, "downloading");
        }

        /** A bar for another long step: {@code verb} is what the plain-text line says ("loading"). */
        ProgressBar(PrintWriter err, boolean terminal, String verb) {
            this(err, terminal, verb, terminal ? Terminals.stderrColumns() : Terminals.DEFAULT_COLUMNS);
        }

        /** A bar drawn in at most {@code columns - 1} characters, so that a redraw never wraps onto a new line. */
        ProgressBar(PrintWriter err, boolean terminal, String verb, int columns) {
            this.err = err;
            this.terminal = terminal;
            this.verb = verb;
            this.columns = Math.max(20, columns);
        }

        @Override
        public void update(String name, long done, long total) {
            long now = System.nanoTime();
            boolean finished = total >= 0 && done >= total;
            if (!name.equals(file)) {
                file = name;
                startNanos = now;
                startBytes = done;
                if (finished && verb.equals("downloading")) {
                    err.printf("  %s: already downloaded (%s)%n", name, ModelsCommand.humanBytes(total));
                    err.flush();
                    return;
                }
                if (!terminal) {
                    err.printf("  %s: %s %s%s%n", name, verb, total < 0 ? "(size unknown)" : ModelsCommand.humanBytes(total),
                            done > 0 ? ", resuming at " + ModelsCommand.humanBytes(done) : "");
                    err.flush();
                }
            }
            if (terminal && (finished || now - lastDraw >= REDRAW_NANOS)) {
                lastDraw = now;
                // NOTE: \r then erase-to-end-of-line: a shorter redraw must not leave the tail of the longer one.
                err.print("\r" + line(name, done, total, now) + "\u001b[K");
                if (finished) {
                    err.println();
                }
                err.flush();
            } else if (!terminal && finished) {
                err.printf("  %s: done, %s at %s%n", name, ModelsCommand.humanBytes(total), rate(done, now).strip());
                err.flush();
            }
        }

        /**
         * One redraw, {@code columns - 1} characters at most: the bar shrinks first, then the rate goes, then the
         * file name is shortened, so a narrow terminal keeps one line per file.
         */
        String line(String name, long done, long total, long now) {
            String percent = total > 0 ? String.format(Locale.ROOT, "%3d%%", 100 * done / total) : "  ?%";
            String sizes = String.format(Locale.ROOT, "%9s / %-9s", ModelsCommand.humanBytes(done),
                    total < 0 ? "?" : ModelsCommand.humanBytes(total));
            String rate = " " + rate(done, now);
            int nameWidth = Math.min(MAX_NAME, name.length());
            int room = columns - 1;
            int fixed = 2 + nameWidth + 2 + 2 + 1 + percent.length() + 1 + sizes.length();
            if (room - fixed - rate.length() < 10) {
                rate = "";
            }
            if (room - fixed < 10) {
                nameWidth = Math.max(8, nameWidth - (10 - (room - fixed)));
                fixed = 2 + nameWidth + 2 + 2 + 1 + percent.length() + 1 + sizes.length();
            }
            int width = Math.max(0, Math.min(MAX_BAR, room - fixed - rate.length()));
            String bar;
            if (total > 0) {
                int filled = (int) (width * done / total);
                bar = "#".repeat(filled) + "-".repeat(width - filled);
            } else {
                bar = "?".repeat(width);
            }
            String s = String.format(Locale.ROOT, "  %-" + nameWidth + "s [%s] %s %s%s", shorten(name, nameWidth), bar,
                    percent, sizes, rate);
            return s.length() > room ? s.substring(0, room) : s;
        }

        private String rate(long done, long now) {
            double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
            // NOTE: fixed width, so the bar does not change length from one redraw to the next.
            return String.format(Locale.ROOT, "%7.1f MB/s", (done - startBytes) / seconds / 1e6);
        }

        private static String shorten(String name, int width) {
            return name.length() <= width ? name : "…" + name.substring(name.length() - (width - 1));
        }
    }
}
