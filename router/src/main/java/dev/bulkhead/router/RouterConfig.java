package dev.bulkhead.router;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything the router needs, as read from a YAML or JSON file by {@link RouterConfigLoader} or built in code.
 *
 * @param nodeMemoryBytes memory the node gives all models together (weights + KV pools); 0 means
 *                        {@link Runtime#maxMemory()}, since the CPU backend keeps KV pools on the Java heap
 * @param models          the models, each with its own engine, queue, budget, breaker and health
 * @param routing         the first routing table
 * @param watchdog        restart and hot-reload settings
 * @param policy          deadlines, attempt timeouts, retry budget, answer cache
 * @param faults          fault injection for drills (off by default)
 * @param source          the file this was read from, watched for routing changes; null when built in code
 */
public record RouterConfig(long nodeMemoryBytes, List<ModelSpec> models, RoutingTable routing, WatchdogSpec watchdog,
                           PolicySpec policy, FaultSpec faults, @JsonIgnore Path source) {

    public RouterConfig {
        if (nodeMemoryBytes < 0) {
            throw new IllegalArgumentException("nodeMemoryBytes must be >= 0, got " + nodeMemoryBytes);
        }
        nodeMemoryBytes = nodeMemoryBytes == 0 ? Runtime.getRuntime().maxMemory() : nodeMemoryBytes;
        if (models == null || models.isEmpty()) {
            throw new IllegalArgumentException("models must list at least one model");
        }
        models = List.copyOf(models);
        Set<String> names = new HashSet<>();
        for (ModelSpec m : models) {
            if (!names.add(m.name())) {
                throw new IllegalArgumentException("model name '" + m.name() + "' is used twice");
            }
        }
        routing = routing == null ? new RoutingTable(1, java.util.Map.of()) : routing;
        watchdog = watchdog == null ? WatchdogSpec.defaults() : watchdog;
        policy = policy == null ? PolicySpec.defaults() : policy;
        faults = faults == null ? FaultSpec.off() : faults;
        for (String m : faults.inject().keySet()) {
            if (!names.contains(m)) {
                throw new IllegalArgumentException("faults.inject names model '" + m + "', which is not configured");
            }
        }
    }

    /** Models and a table, everything else default. */
    public static RouterConfig of(List<ModelSpec> models, RoutingTable routing) {
        return new RouterConfig(0, models, routing, null, null, null, null);
    }

    public RouterConfig withNodeMemory(long bytes) {
        return new RouterConfig(bytes, models, routing, watchdog, policy, faults, source);
    }

    public RouterConfig withWatchdog(WatchdogSpec w) {
        return new RouterConfig(nodeMemoryBytes, models, routing, w, policy, faults, source);
    }

    public RouterConfig withPolicy(PolicySpec p) {
        return new RouterConfig(nodeMemoryBytes, models, routing, watchdog, p, faults, source);
    }

    public RouterConfig withFaults(FaultSpec f) {
        return new RouterConfig(nodeMemoryBytes, models, routing, watchdog, policy, f, source);
    }

    public RouterConfig withSource(Path file) {
        return new RouterConfig(nodeMemoryBytes, models, routing, watchdog, policy, faults, file);
    }

    /** Models whose isolation is unset get {@code isolation}; the others keep theirs. */
    public RouterConfig withDefaultIsolation(Isolation isolation) {
        List<ModelSpec> ms = models.stream().map(m -> m.isolation() == null ? m.withIsolation(isolation) : m).toList();
        return new RouterConfig(nodeMemoryBytes, ms, routing, watchdog, policy, faults, source);
    }

    /** Model names. */
    public Set<String> modelNames() {
        Set<String> s = new HashSet<>();
        models.forEach(m -> s.add(m.name()));
        return Set.copyOf(s);
    }
}
