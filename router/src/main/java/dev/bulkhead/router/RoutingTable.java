package dev.bulkhead.router;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * An immutable, versioned routing table: aliases to routes. The router swaps whole tables atomically after
 * {@link RoutingTableValidator} accepted them, so a request sees one table from start to end.
 *
 * @param version increases with every accepted update
 * @param routes  alias to route, in declaration order
 */
public record RoutingTable(long version, Map<String, Route> routes) {

    public RoutingTable {
        // NOTE: not Map.copyOf: null keys or values from a corrupt file must survive to be named by the validator.
        routes = routes == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(routes));
    }

    /** The same routes under another version. */
    public RoutingTable withVersion(long v) {
        return new RoutingTable(v, routes);
    }

    /**
     * The models to try for {@code alias}, in order: one target picked by weight, then the expanded fallback
     * chain (aliases replaced by their targets, heaviest first, and their own fallbacks; duplicates dropped).
     * An alias that is not in the table but names a model routes to that model alone. Empty when neither.
     * Only valid (acyclic) tables are expanded.
     */
    public List<String> chain(String alias, Set<String> models, RandomGenerator random) {
        Route route = routes.get(alias);
        if (route == null) {
            return models.contains(alias) ? List.of(alias) : List.of();
        }
        LinkedHashSet<String> out = new LinkedHashSet<>();
        out.add(pick(route.targets(), random));
        for (String f : route.fallbacks()) {
            expand(f, out);
        }
        return List.copyOf(out);
    }

    private void expand(String entry, Set<String> out) {
        Route r = routes.get(entry);
        if (r == null) {
            out.add(entry);
            return;
        }
        List<RouteTarget> byWeight = new ArrayList<>(r.targets());
        byWeight.sort((a, b) -> Double.compare(b.weight(), a.weight()));
        for (RouteTarget t : byWeight) {
            out.add(t.model());
        }
        for (String f : r.fallbacks()) {
            expand(f, out);
        }
    }

    private static String pick(List<RouteTarget> targets, RandomGenerator random) {
        double total = targets.stream().mapToDouble(RouteTarget::weight).sum();
        double x = random.nextDouble() * total;
        for (RouteTarget t : targets) {
            x -= t.weight();
            if (x < 0) {
                return t.model();
            }
        }
        return targets.getLast().model();
    }
}
