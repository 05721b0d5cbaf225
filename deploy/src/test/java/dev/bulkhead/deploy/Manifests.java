package dev.bulkhead.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The YAML documents of deploy/kubernetes/, each with the file it came from (the vendored CRDs apart). */
final class Manifests {

    /** deploy/: this module's directory, where Surefire runs the tests. */
    static final Path DEPLOY = Path.of("").toAbsolutePath();
    static final Path KUBERNETES = DEPLOY.resolve("kubernetes");
    static final Path CRDS = KUBERNETES.resolve("crds");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** One document of a manifest file: {@code file#index (Kind name)}. */
    record Document(Path file, int index, JsonNode node) {
        String kind() {
            return node.path("kind").asText();
        }

        String name() {
            return node.path("metadata").path("name").asText();
        }

        @Override
        public String toString() {
            return KUBERNETES.relativize(file) + "#" + index + " (" + kind() + " " + name() + ")";
        }
    }

    private Manifests() {
    }

    /** Every document of every .yaml under deploy/kubernetes/ except crds/ and the kustomization files. */
    static List<Document> all() {
        List<Document> docs = new ArrayList<>();
        for (Path file : yamlFiles(KUBERNETES)) {
            if (!file.startsWith(CRDS) && !file.getFileName().toString().equals("kustomization.yaml")) {
                docs.addAll(read(file));
            }
        }
        return docs;
    }

    static List<Path> yamlFiles(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Document> read(Path file) {
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            List<Document> docs = new ArrayList<>();
            for (int i = 0; it.hasNext(); i++) {
                JsonNode node = it.next();
                if (node != null && !node.isNull() && !node.isEmpty()) {
                    docs.add(new Document(file, i, node));
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    static Document parse(String yaml) {
        try {
            return new Document(KUBERNETES.resolve("inline.yaml"), 0, YAML.readTree(yaml));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
