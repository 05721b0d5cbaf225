package dev.bulkhead.router;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a candidate routing table against the models the router loaded and the table serving now. Collects
 * every problem, so one rejection names all of them: a version that does not increase, an empty table,
 * malformed aliases, targets or fallbacks that name nothing loaded, weights that are negative, not finite,
 * too large or all zero, duplicate targets, a cache entry that is not last, and fallback cycles.
 */
public final class RoutingTableValidator {

    /** Most targets per route. */
    public static final int MAX_TARGETS = 16;
    /** Most fallback entries per route. */
    public static final int MAX_FALLBACKS = 8;
    /** Largest weight; weights are relative, so anything larger is a corrupt value. */
    public static final double MAX_WEIGHT = 1_000_000;
    private static final Pattern ALIAS = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");

    private RoutingTableValidator() {
    }

    /** Every reason {@code candidate} may not replace {@code current}; empty when it is valid. */
    public static List<String> validate(RoutingTable candidate, RoutingTable current, Set<String> models) {
        List<String> errors = new ArrayList<>();
        if (candidate == null) {
            return List.of("the table is null");
        }
        if (current != null && candidate.version() <= current.version()) {
            errors.add("version must increase: serving " + current.version() + ", got " + candidate.version());
        }
        if (candidate.routes().isEmpty()) {
            errors.add("the table has no routes: it would send all traffic nowhere");
        }
        for (Map.Entry<String, Route> e : candidate.routes().entrySet()) {
            checkRoute(e.getKey(), e.getValue(), candidate, models, errors);
        }
        if (errors.isEmpty()) {
            findCycle(candidate).ifPresent(errors::add);
        }
        return errors;
    }

    private static void checkRoute(String alias, Route route, RoutingTable table, Set<String> models,
                                   List<String> errors) {
        if (alias == null || !ALIAS.matcher(alias).matches()) {
            errors.add("alias '" + alias + "' must match " + ALIAS.pattern());
            return;
        }
        if (route == null) {
            errors.add("route '" + alias + "' is empty");
            return;
        }
        checkTargets(alias, route.targets(), models, errors);
        List<String> fb = route.fallbacks();
        if (fb.size() > MAX_FALLBACKS) {
            errors.add("route '" + alias + "' has " + fb.size() + " fallbacks, at most " + MAX_FALLBACKS);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < fb.size(); i++) {
            String f = fb.get(i);
            if (f == null || !(models.contains(f) || table.routes().containsKey(f) || Route.CACHE.equals(f))) {
                errors.add("route '" + alias + "' falls back to '" + f + "', which is no loaded model, alias or '"
                        + Route.CACHE + "'");
            } else if (!seen.add(f)) {
                errors.add("route '" + alias + "' lists fallback '" + f + "' twice");
            } else if (Route.CACHE.equals(f) && i != fb.size() - 1) {
                errors.add("route '" + alias + "' has '" + Route.CACHE + "' at position " + i
                        + " of its fallbacks; it must be last");
            }
        }
    }

    private static void checkTargets(String alias, List<RouteTarget> targets, Set<String> models,
                                     List<String> errors) {
        if (targets.isEmpty()) {
            errors.add("route '" + alias + "' has no targets");
            return;
        }
        if (targets.size() > MAX_TARGETS) {
            errors.add("route '" + alias + "' has " + targets.size() + " targets, at most " + MAX_TARGETS);
        }
        double sum = 0;
        int before = errors.size();
        Set<String> seen = new HashSet<>();
        for (RouteTarget t : targets) {
            if (t == null || t.model() == null) {
                errors.add("route '" + alias + "' has a target without a model");
                continue;
            }
            if (!models.contains(t.model())) {
                errors.add("route '" + alias + "' targets model '" + t.model() + "', which is not loaded (known: "
                        + String.join(", ", models.stream().sorted().toList()) + ")");
            }
            if (!seen.add(t.model())) {
                errors.add("route '" + alias + "' lists target '" + t.model() + "' twice");
            }
            double w = t.weight();
            if (!Double.isFinite(w) || w < 0 || w > MAX_WEIGHT) {
                errors.add("route '" + alias + "' gives '" + t.model() + "' weight " + w + "; weights must be in [0, "
                        + MAX_WEIGHT + "]");
            } else {
                sum += w;
            }
        }
        // NOTE: a zero sum is only news when every target was well formed.
        if (sum <= 0 && errors.size() == before) {
            errors.add("route '" + alias + "' has weights summing to " + sum + "; at least one must be positive");
        }
    }

    /** A fallback cycle between aliases (a → b → a), named hop by hop, if there is one. */
    private static java.util.Optional<String> findCycle(RoutingTable table) {
        Map<String, Integer> state = new HashMap<>(); // 1 = on the current path, 2 = done
        for (String alias : table.routes().keySet()) {
            List<String> path = new ArrayList<>();
            String cycle = visit(alias, table, state, path);
            if (cycle != null) {
                return java.util.Optional.of("fallback chains must be acyclic: " + cycle);
            }
        }
        return java.util.Optional.empty();
    }

    private static String visit(String alias, RoutingTable table, Map<String, Integer> state, List<String> path) {
        Integer s = state.get(alias);
        if (s != null && s == 2) {
            return null;
        }
        if (s != null) {
            List<String> loop = new ArrayList<>(path.subList(path.indexOf(alias), path.size()));
            loop.add(alias);
            return String.join(" -> ", loop);
        }
        state.put(alias, 1);
        path.add(alias);
        for (String f : table.routes().get(alias).fallbacks()) {
            if (table.routes().containsKey(f)) {
                String cycle = visit(f, table, state, path);
                if (cycle != null) {
                    return cycle;
                }
            }
        }
        path.removeLast();
        state.put(alias, 2);
        return null;
    }
}
