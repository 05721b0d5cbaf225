package dev.bulkhead.server.cli;

import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.hub.CachedModel;
import dev.bulkhead.model.hub.HubCache;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bulkhead models}: list the models pulled into the local cache, and the embedded default. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List downloaded models (repo, revision, size, path; pass the repo or the path as --model) and "
                    + "the embedded default. A pull narrowed by --include that left no loadable model is marked "
                    + "incomplete.")
final class ModelsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--cache", paramLabel = "DIR",
            description = "Cache directory (default: $BULKHEAD_CACHE, $XDG_CACHE_HOME/bulkhead/hub or ~/.cache/bulkhead/hub).")
    Path cache;

    @Override
    public Integer call() {
        HubCache hubCache = cache != null ? new HubCache(cache) : HubCache.defaultCache();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"REPO", "REVISION", "SIZE", "PATH"});
        // NOTE: the embedded model needs no pull; its name is what --model takes.
        rows.add(new String[] {EmbeddedModel.NAME, "embedded", "-", "(built in: --model " + EmbeddedModel.NAME
                + "; a story model, not an instruction model)"});
        for (CachedModel m : hubCache.list()) {
            List<String> missing = hubCache.missing(m);
            rows.add(new String[] {m.repo(), m.revision(), humanBytes(m.sizeBytes()), m.path()
                    + (missing.isEmpty() ? "" : "  (incomplete: no " + String.join(", ", missing) + ")")});
        }
        int[] widths = new int[3];
        for (String[] r : rows) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        for (String[] r : rows) {
            out.printf("%-" + widths[0] + "s  %-" + widths[1] + "s  %" + widths[2] + "s  %s%n", (Object[]) r);
        }
        out.flush();
        return 0;
    }

    /** Bytes in B, KB, MB or GB (decimal units, like the hub shows them). */
    static String humanBytes(long b) {
        if (b < 1000) {
            return b + " B";
        }
        String[] units = {"KB", "MB", "GB", "TB"};
        double v = b;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
