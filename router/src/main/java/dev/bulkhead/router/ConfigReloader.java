package dev.bulkhead.router;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot reload: when the config file's modification time or size changes, it is parsed again and its routing
 * table offered as an update. A file that does not parse is rejected like an invalid table: logged, and the
 * last good table keeps serving.
 */
final class ConfigReloader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path file;
    private final Function<RouterConfig, TableUpdate> apply;
    private final LongSupplier servingVersion;
    private FileTime seenTime;
    private long seenSize = -1;

    ConfigReloader(Path file, Function<RouterConfig, TableUpdate> apply, LongSupplier servingVersion) {
        this.file = file;
        this.apply = apply;
        this.servingVersion = servingVersion;
        if (file != null) {
            changed();
        }
    }

    /** Called by the watchdog: reloads when the file changed since the last look. */
    synchronized void poll() {
        if (file != null && changed()) {
            reloadNow();
        }
    }

    /** Reloads now; empty without a file. */
    synchronized Optional<TableUpdate> reloadNow() {
        if (file == null) {
            return Optional.empty();
        }
        changed();
        RouterConfig fresh;
        try {
            fresh = RouterConfigLoader.load(file);
        } catch (IllegalArgumentException e) {
            LOG.warn("config reload rejected, the serving table stays: {}", e.getMessage());
            return Optional.of(new TableUpdate(false, servingVersion.getAsLong(), List.of(e.getMessage())));
        }
        return Optional.of(apply.apply(fresh));
    }

    private boolean changed() {
        try {
            FileTime t = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            boolean c = !t.equals(seenTime) || size != seenSize;
            seenTime = t;
            seenSize = size;
            return c;
        } catch (IOException e) {
            LOG.warn("cannot stat config file {}: {}", file, e.toString());
            return false;
        }
    }
}
