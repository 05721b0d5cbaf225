package dev.bulkhead.server.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges Prometheus text expositions (the router's and each worker process's) into one: a metric family's
 * {@code # HELP} and {@code # TYPE} lines once, then the samples of every source, so a scraper never sees a family
 * twice (which the text format forbids). Samples stay distinct because each worker's carry its model's tag.
 */
final class PrometheusText {

    private PrometheusText() {
    }

    private static final class Family {
        final List<String> meta = new ArrayList<>();
        final List<String> samples = new ArrayList<>();
    }

    static String merge(List<String> texts) {
        Map<String, Family> families = new LinkedHashMap<>();
        for (String text : texts) {
            String current = null;
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("# EOF")) {
                    continue;
                }
                if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                    String name = line.substring(7).split(" ", 2)[0];
                    current = name;
                    Family f = families.computeIfAbsent(name, k -> new Family());
                    if (f.meta.stream().noneMatch(m -> m.startsWith(line.substring(0, 7)))) {
                        f.meta.add(line);
                    }
                } else if (!line.startsWith("#")) {
                    String name = line.split("[{ ]", 2)[0];
                    String family = current != null && name.startsWith(current) ? current : name;
                    families.computeIfAbsent(family, k -> new Family()).samples.add(line);
                }
            }
        }
        StringBuilder out = new StringBuilder();
        for (Family f : families.values()) {
            f.meta.forEach(m -> out.append(m).append('\n'));
            f.samples.forEach(s -> out.append(s).append('\n'));
        }
        return out.toString();
    }
}
