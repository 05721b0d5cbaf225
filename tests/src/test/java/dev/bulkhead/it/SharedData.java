package dev.bulkhead.it;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Locates ../shared (the surefire property points at it) and skips with the reason when it is absent. */
final class SharedData {

    private SharedData() {
    }

    static Path root() {
        return Path.of(System.getProperty("bulkhead.shared.dir", "../shared")).toAbsolutePath().normalize();
    }

    static Path require(String relative) {
        Path p = root().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "shared test data missing: " + p);
        return p;
    }
}
