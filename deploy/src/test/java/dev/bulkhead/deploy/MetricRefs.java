package dev.bulkhead.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The metrics the manifests tell others to read from a replica's /metrics: the endpoint pickers' metric specs and
 * the HPAs' pod metrics, each a name and the labels it selects. */
final class MetricRefs {

    /** One metric a manifest names: where, the family name and the label values it selects. */
    record Ref(String where, String name, Map<String, String> labels) {
    }

    // The picker's spec syntax: name or name{label=value,label2=value2} (values optionally quoted).
    private static final Pattern SPEC = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?");

    private MetricRefs() {
    }

    static List<Ref> inManifests() {
        List<Ref> refs = new ArrayList<>();
        for (Manifests.Document doc : Manifests.all()) {
            if (doc.kind().equals("ConfigMap")) {
                doc.node().path("data").properties().forEach(e -> {
                    JsonNode config = ManifestValidationTest.readYaml(e.getValue().asText());
                    for (JsonNode plugin : config.path("plugins")) {
                        for (JsonNode engine : plugin.path("parameters").path("engineConfigs")) {
                            engine.properties().forEach(f -> {
                                if (f.getKey().endsWith("Spec") && !f.getValue().asText().isEmpty()) {
                                    refs.add(spec(doc + " " + f.getKey(), f.getValue().asText()));
                                }
                            });
                        }
                    }
                });
            }
            if (doc.kind().equals("HorizontalPodAutoscaler")) {
                for (JsonNode m : doc.node().path("spec").path("metrics")) {
                    JsonNode metric = m.path("pods").path("metric");
                    if (!metric.isMissingNode()) {
                        Map<String, String> labels = new LinkedHashMap<>();
                        metric.path("selector").path("matchLabels").properties()
                                .forEach(l -> labels.put(l.getKey(), l.getValue().asText()));
                        refs.add(new Ref(doc.toString(), metric.path("name").asText(), labels));
                    }
                }
            }
        }
        return refs;
    }

    static Ref spec(String where, String spec) {
        Matcher m = SPEC.matcher(spec.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(where + ": not a metric spec: " + spec);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (m.group(2) != null && !m.group(2).isBlank()) {
            for (String pair : m.group(2).split(",")) {
                String[] kv = pair.split("=", 2);
                labels.put(kv[0].trim(), kv[1].trim().replaceAll("^\"|\"$", ""));
            }
        }
        return new Ref(where, m.group(1), labels);
    }

    /**
     * What a replica's /metrics lacks of the given references: a family none of its samples has, a label a
     * reference selects by that a sample lacks, or (for references of the pool whose model the replica serves, by
     * the manifest path prefix {@code servedPool}) no sample with the selected label values. Empty when all is there.
     */
    static List<String> missing(List<Ref> refs, String prometheusText, String servedPool) {
        Map<String, List<Map<String, String>>> families = families(prometheusText);
        List<String> missing = new ArrayList<>();
        for (Ref ref : refs) {
            List<Map<String, String>> samples = families.get(ref.name());
            if (samples == null) {
                missing.add(ref.where() + " reads " + ref.name() + ", which /metrics does not export");
                continue;
            }
            for (Map<String, String> sample : samples) {
                if (!sample.keySet().containsAll(ref.labels().keySet())) {
                    missing.add(ref.where() + " selects " + ref.name() + " by " + ref.labels().keySet()
                            + ", a sample has only " + sample.keySet());
                }
            }
            if (ref.where().startsWith(servedPool) && samples.stream()
                    .noneMatch(sample -> sample.entrySet().containsAll(ref.labels().entrySet()))) {
                missing.add(ref.where() + " selects " + ref.name() + ref.labels() + ", which no sample has");
            }
        }
        return missing;
    }

    /** The label sets of every sample of a family in Prometheus text, by family name. */
    static Map<String, List<Map<String, String>>> families(String prometheusText) {
        Map<String, List<Map<String, String>>> families = new LinkedHashMap<>();
        Pattern sample = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? \\S+.*$");
        Pattern label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
        for (String line : prometheusText.split("\n")) {
            Matcher m = sample.matcher(line);
            if (line.startsWith("#") || !m.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = label.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            families.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(labels);
        }
        return families;
    }
}
