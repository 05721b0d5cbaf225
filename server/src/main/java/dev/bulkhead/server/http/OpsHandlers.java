package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Instant;
import java.util.Map;

/**
 * {@code GET /v1/models} (filtered by the caller's key allow list), {@code /health}, {@code /ready},
 * {@code /ready/{model}} and {@code /metrics}.
 */
final class OpsHandlers {

    private final ModelBackend backend;
    private final ObjectMapper json;
    private final PrometheusMeterRegistry registry;
    private final long created = Instant.now().getEpochSecond();

    OpsHandlers(ModelBackend backend, ObjectMapper json, PrometheusMeterRegistry registry) {
        this.backend = backend;
        this.json = json;
        this.registry = registry;
    }

    void models(ServerRequest req, ServerResponse res) throws Exception {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String m : backend.models()) {
            if (!AuthFilter.mayUse(req, m)) {
                continue; // NOTE: a key sees only the models it may use, as with OpenAI's project keys.
            }
            data.addObject().put("id", m).put("object", "model").put("created", created).put("owned_by", "bulkhead");
        }
        sendJson(res, Status.OK_200, root);
    }

    /** The process: 200 while it serves, whatever its models' state (that is {@code /ready}'s job). */
    void health(ServerRequest req, ServerResponse res) throws Exception {
        boolean ok = backend.healthy();
        ObjectNode root = json.createObjectNode().put("status", ok ? "ok" : "unhealthy");
        sendJson(res, ok ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503, root);
    }

    /** Every model on its own; 503 when any model is not ready, so no dead model hides behind a live one. */
    void ready(ServerRequest req, ServerResponse res) throws Exception {
        Map<String, ModelBackend.Readiness> all = backend.readiness();
        ObjectNode root = json.createObjectNode();
        boolean allReady = !all.isEmpty() && all.values().stream().allMatch(ModelBackend.Readiness::ready);
        root.put("ready", allReady);
        ObjectNode models = root.putObject("models");
        all.forEach((name, r) -> describe(models.putObject(name).put("ready", r.ready()).put("status", r.status())
                .put("kv_blocks_in_use", r.kvBlocksInUse()).put("reason", r.reason()), r));
        sendJson(res, allReady ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503, root);
    }

    /**
     * {@code GET /ready/{model}}: one model (as {@code /ready} keys them) on its own, 200 or 503, so a probe of a
     * live model is not failed by another's; 404 for a name {@code /ready} does not list.
     */
    void readyModel(ServerRequest req, ServerResponse res) throws Exception {
        String name = req.path().pathParameters().get("model");
        ModelBackend.Readiness r = backend.readiness().get(name);
        if (r == null) {
            sendJson(res, Status.NOT_FOUND_404, json.createObjectNode().put("model", name).put("ready", false)
                    .put("reason", "no model '" + name + "' (see /ready for the list)"));
            return;
        }
        ObjectNode root = json.createObjectNode().put("model", name).put("ready", r.ready()).put("status", r.status())
                .put("kv_blocks_in_use", r.kvBlocksInUse()).put("reason", r.reason());
        describe(root, r);
        sendJson(res, r.ready() ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503, root);
    }

    /** A router model's isolation and, while it runs, its worker process (pid, resident set, heap). */
    private static void describe(ObjectNode model, ModelBackend.Readiness r) {
        if (r.isolation() != null) {
            model.put("isolation", r.isolation());
        }
        if (r.worker() != null) {
            model.putObject("worker").put("pid", r.worker().pid()).put("rss_bytes", r.worker().rssBytes())
                    .put("heap_used_bytes", r.worker().heapUsedBytes()).put("heap_max_bytes", r.worker().heapMaxBytes());
        }
    }

    /** This process's registry and every worker process's, merged by metric family. */
    void metrics(ServerRequest req, ServerResponse res) {
        res.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        java.util.List<String> workers = backend.workerMetrics();
        String own = registry.scrape();
        res.send(workers.isEmpty() ? own : PrometheusText.merge(java.util.stream.Stream.concat(
                java.util.stream.Stream.of(own), workers.stream()).toList()));
    }

    private void sendJson(ServerResponse res, Status status, ObjectNode body) throws Exception {
        res.status(status);
        res.header("Content-Type", "application/json");
        res.send(json.writeValueAsBytes(body));
    }
}
