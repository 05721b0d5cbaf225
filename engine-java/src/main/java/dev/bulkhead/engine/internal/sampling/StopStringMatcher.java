package dev.bulkhead.engine.internal.sampling;

import java.util.List;

/**
 * Finds stop strings in a stream of text deltas. Text that could still become the start of a stop string is
 * withheld until the next deltas decide it; everything else is released at once.
 *
 * <p>When several stop strings occur, the one that ends first wins (then the one that starts first): that is
 * the one a character-by-character reader meets first, so the result does not depend on how the text was
 * split into tokens. NOTE: vLLM instead takes the first in list order; the two differ only when stop strings
 * overlap within one delta.
 */
final class StopStringMatcher {

    private final List<String> stops;
    private final boolean includeStopString;
    private final StringBuilder pending = new StringBuilder();  // withheld text plus the newest delta
    private String matched;

    StopStringMatcher(List<String> stops, boolean includeStopString) {
        this.stops = List.copyOf(stops);
        this.includeStopString = includeStopString;
    }

    /**
     * Appends {@code delta} and returns the text that can be emitted now. After a match it returns the text
     * up to the stop string (with it when included), {@link #matched()} names it and the rest is dropped.
     */
    String accept(String delta) {
        if (matched != null) {
            throw new IllegalStateException("stop string " + quote(matched) + " already matched");
        }
        pending.append(delta);
        if (stops.isEmpty() || pending.isEmpty()) {
            return take(pending.length());
        }
        int bestStart = -1;
        int bestEnd = Integer.MAX_VALUE;
        String best = null;
        for (String stop : stops) {
            // NOTE: any occurrence still to be found starts inside pending: a prefix of it was withheld.
            int start = pending.indexOf(stop);
            int end = start + stop.length();
            if (start >= 0 && (end < bestEnd || (end == bestEnd && start < bestStart))) {
                bestStart = start;
                bestEnd = end;
                best = stop;
            }
        }
        if (best != null) {
            matched = best;
            String out = pending.substring(0, includeStopString ? bestEnd : bestStart);
            pending.setLength(0);
            return out;
        }
        return take(pending.length() - withheldLength());
    }

    /** Releases the withheld text, for a request that ends for another reason. */
    String release() {
        return take(pending.length());
    }

    /** The stop string found, or null. */
    String matched() {
        return matched;
    }

    /** Length of the longest suffix of pending that is a proper prefix of some stop string. */
    private int withheldLength() {
        int n = pending.length();
        int longest = 0;
        for (String stop : stops) {
            for (int len = Math.min(n, stop.length() - 1); len > longest; len--) {
                if (regionMatches(n - len, stop, len)) {
                    longest = len;
                    break;
                }
            }
        }
        return longest;
    }

    private boolean regionMatches(int from, String stop, int len) {
        for (int i = 0; i < len; i++) {
            if (pending.charAt(from + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String take(int count) {
        String out = pending.substring(0, count);
        pending.delete(0, count);
        return out;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }
}
