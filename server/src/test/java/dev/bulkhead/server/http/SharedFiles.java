package dev.bulkhead.server.http;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Test data in ../shared (the surefire property points at it); skips with the reason when it is absent. */
final class SharedFiles {

    private SharedFiles() {
    }

    static Path require(String relative) {
        Path p = Path.of(System.getProperty("bulkhead.shared.dir", "../shared")).toAbsolutePath().normalize()
                .resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "shared test data missing: " + p);
        return p;
    }
}
