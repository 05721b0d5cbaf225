package dev.bulkhead.server.cli;

import dev.bulkhead.model.LoadProgress;
import dev.bulkhead.model.hub.CachedModel;
import dev.bulkhead.model.hub.DownloadProgress;
import dev.bulkhead.model.hub.HubCache;
import dev.bulkhead.model.hub.HubClient;
import dev.bulkhead.model.hub.HubConfig;
import dev.bulkhead.model.hub.HubFileFilter;
import java.io.Console;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
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
        description = {"Download a model from the Hugging Face hub into the local cache, resuming partial downloads",
                "and verifying checksums. Prints the model directory (usable as --model) on stdout.",
                "Token: HF_TOKEN or ~/.cache/huggingface/token. Hub: HF_ENDPOINT or --endpoint."})
final class PullCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ORG/NAME", description = "Hub repository id, e.g. HuggingFaceTB/SmolLM2-135M.")
    String repo;

    @Option(names = "--revision", defaultValue = "main", paramLabel = "REV",
            description = "Branch, tag or commit (default: ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--include", paramLabel = "GLOB",
            description = {"Download only files matching this glob (repeatable). Default: config.json,",
                    "generation_config.json, tokenizer*.json, special_tokens_map.json, *.safetensors and its index."})
    List<String> include;

    @Option(names = "--cache", paramLabel = "DIR",
            description = "Cache directory (default: $BULKHEAD_CACHE, $XDG_CACHE_HOME/bulkhead/hub or ~/.cache/bulkhead/hub).")
    Path cache;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub URL (default: $HF_ENDPOINT or https://huggingface.co).")
    URI endpoint;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        HubConfig config = HubConfig.fromEnvironment();
        if (endpoint != null) {
            config = config.withEndpoint(endpoint);
        }
        HubCache hubCache = cache != null ? new HubCache(cache) : HubCache.defaultCache();
        err.printf("pulling %s@%s from %s into %s%n", repo, revision, config.endpoint(), hubCache.root());
        err.flush();
        long start = System.nanoTime();
        CachedModel model = new HubClient(config).pull(repo, revision, HubFileFilter.ofIncludes(include), hubCache,
                new ProgressBar(err, isTerminal()));
        err.printf("pulled %s (%s) in %.1f s%n", repo, ModelsCommand.humanBytes(model.sizeBytes()),
                (System.nanoTime() - start) / 1e9);
        err.flush();
        spec.commandLine().getOut().println(model.path());
        spec.commandLine().getOut().flush();
        return 0;
    }

    static boolean isTerminal() {
        // NOTE: since JDK 22 System.console() is non-null even when redirected; isTerminal() tells the truth.
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    /**
     * Draws one bar per file, redrawn in place with {@code \r} on a terminal; elsewhere (logs, CI) one
     * line when a file starts and one when it ends, so the output stays readable.
     */
    static final class ProgressBar implements DownloadProgress, LoadProgress {

        private static final int WIDTH = 30;
        private static final long REDRAW_NANOS = 100_000_000L;

        private final PrintWriter err;
        private final boolean terminal;
        private final String verb;
        private String file;
        private long startNanos;
        private long startBytes;
        private long lastDraw;

        ProgressBar(PrintWriter err, boolean terminal) {
            this(err, terminal, "downloading");
        }

        /** A bar for another long step: {@code verb} is what the plain-text line says ("loading"). */
        ProgressBar(PrintWriter err, boolean terminal, String verb) {
            this.err = err;
            this.terminal = terminal;
            this.verb = verb;
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
                err.print("\r" + line(name, done, total, now));
                if (finished) {
                    err.println();
                }
                err.flush();
            } else if (!terminal && finished) {
                err.printf("  %s: done, %s at %s%n", name, ModelsCommand.humanBytes(total), rate(done, now));
                err.flush();
            }
        }

        private String line(String name, long done, long total, long now) {
            String bar;
            String percent;
            if (total > 0) {
                int filled = (int) (WIDTH * done / total);
                bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
                percent = String.format(Locale.ROOT, "%3d%%", 100 * done / total);
            } else {
                bar = "?".repeat(WIDTH);
                percent = "  ?%";
            }
            return String.format(Locale.ROOT, "  %-28s [%s] %s %9s / %-9s %s ", shorten(name), bar, percent,
                    ModelsCommand.humanBytes(done), total < 0 ? "?" : ModelsCommand.humanBytes(total), rate(done, now));
        }

        private String rate(long done, long now) {
            double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
            return String.format(Locale.ROOT, "%.1f MB/s", (done - startBytes) / seconds / 1e6);
        }

        private static String shorten(String name) {
            return name.length() <= 28 ? name : "…" + name.substring(name.length() - 27);
        }
    }
}
