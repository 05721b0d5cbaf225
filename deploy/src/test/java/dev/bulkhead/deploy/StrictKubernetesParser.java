package dev.bulkhead.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a manifest into fabric8's Kubernetes API model and reports every field the model does not know.
 *
 * <p>NOTE: fabric8's model classes never fail on an unknown field: Jackson's any-setter keeps it in the object's
 * {@code additionalProperties} map (so does a value of the wrong type). The API server's strict field validation
 * ({@code kubectl apply --validate=strict}) refuses those, so this walks the parsed object and reports each such
 * entry with its path, e.g. {@code spec.template.spec.containers[0].livenessProbe.httpGet: unknown field "pth"}.
 */
final class StrictKubernetesParser {

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    /** What a document parsed into, and the problems found (empty when it is strictly valid). */
    record Result(KubernetesResource resource, List<String> problems) {
        boolean isCustomResource() {
            return resource instanceof GenericKubernetesResource;
        }
    }

    private StrictKubernetesParser() {
    }

    static Result parse(Manifests.Document doc) {
        List<String> problems = new ArrayList<>();
        KubernetesResource resource;
        try {
            resource = SERIALIZATION.unmarshal(doc.node().toString(), KubernetesResource.class);
        } catch (RuntimeException e) {
            return new Result(null, List.of("does not parse: " + e.getMessage()));
        }
        if (resource instanceof GenericKubernetesResource generic) {
            // A kind the model does not know (a custom resource): only its metadata is typed; CustomResourceSchemas
            // validates the rest against the CRD.
            walk("metadata", generic.getMetadata(), problems, Collections.newSetFromMap(new IdentityHashMap<>()));
        } else {
            walk("", resource, problems, Collections.newSetFromMap(new IdentityHashMap<>()));
        }
        return new Result(resource, problems);
    }

    private static void walk(String path, Object value, List<String> problems, Set<Object> seen) {
        if (value == null || !value.getClass().getName().startsWith("io.fabric8.") || value instanceof Enum<?>
                || !seen.add(value)) {
            if (value instanceof Collection<?> list) {
                int i = 0;
                for (Object item : list) {
                    walk(path + "[" + i++ + "]", item, problems, seen);
                }
            } else if (value instanceof Map<?, ?> map) {
                map.forEach((k, v) -> walk(path + "[" + k + "]", v, problems, seen));
            }
            return;
        }
        for (Class<?> c = value.getClass(); c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                Object child = read(f, value);
                if (f.getName().equals("additionalProperties") && child instanceof Map<?, ?> extra) {
                    extra.forEach((k, v) -> problems.add((path.isEmpty() ? "" : path + ": ") + "unknown field \""
                            + k + "\" (" + v + ")"));
                } else {
                    walk(path.isEmpty() ? f.getName() : path + "." + f.getName(), child, problems, seen);
                }
            }
        }
    }

    private static Object read(Field f, Object owner) {
        try {
            f.setAccessible(true);
            return f.get(owner);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot read " + f, e);
        }
    }
}
