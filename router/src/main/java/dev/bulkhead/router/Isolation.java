package dev.bulkhead.router;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Where a model's engine runs (see {@code docs/process-isolation.md}). */
public enum Isolation {
    /**
     * In the router's JVM: contains exceptions, hung steps and heap drills, but a native crash, a sticky CUDA error
     * or a real heap exhaustion takes every model of the process. For embedding and tests.
     */
    IN_PROCESS("in-process"),
    /** In a worker JVM of its own, supervised over a Unix domain socket: {@code serve --config}'s default. */
    PROCESS("process");

    private final String configName;

    Isolation(String configName) {
        this.configName = configName;
    }

    /** The spelling in config files and on the command line. */
    @JsonValue
    public String configName() {
        return configName;
    }

    /** Parses {@code process} or {@code in-process} (also {@code in_process}, any case). */
    @JsonCreator
    public static Isolation of(String s) {
        String n = s == null ? "" : s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Isolation i : values()) {
            if (i.configName.equals(n)) {
                return i;
            }
        }
        throw new IllegalArgumentException("isolation must be 'process' or 'in-process', got '" + s + "'");
    }
}
