package dev.bulkhead.router;

import java.util.List;

/**
 * The outcome of a routing-table update.
 *
 * @param accepted      whether the new table now serves
 * @param activeVersion version of the table serving after the update (the old one when rejected)
 * @param errors        every reason the update was rejected; empty when accepted
 */
public record TableUpdate(boolean accepted, long activeVersion, List<String> errors) {

    public TableUpdate {
        errors = List.copyOf(errors);
    }
}
