package dev.bulkhead.model.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubCacheTest {

    @TempDir
    Path tmp;

    @Test
    void defaultRootPrefersBulkheadCacheThenXdgThenHome() {
        Path home = Path.of("/home/u");
        assertThat(HubCache.defaultRoot(Map.of("BULKHEAD_CACHE", "/c", "XDG_CACHE_HOME", "/x"), home)).isEqualTo(Path.of("/c"));
        assertThat(HubCache.defaultRoot(Map.of("XDG_CACHE_HOME", "/x"), home)).isEqualTo(Path.of("/x/bulkhead/hub"));
        assertThat(HubCache.defaultRoot(Map.of(), home)).isEqualTo(Path.of("/home/u/.cache/bulkhead/hub"));
    }

    @Test
    void laysOutReposLikeHuggingFaceHub() {
        HubCache cache = new HubCache(tmp);
        assertThat(cache.snapshotDir("meta-llama/Llama-3.2-1B", "abc"))
                .isEqualTo(tmp.resolve("models--meta-llama--Llama-3.2-1B/snapshots/abc"));
        assertThatThrownBy(() -> cache.repoDir("../etc")).hasMessageContaining("not a hub repository id");
        assertThatThrownBy(() -> cache.repoDir("a/b/c")).hasMessageContaining("expected ORG/NAME");
    }

    @Test
    void listsOnlySnapshotsWhoseRefWasWrittenAndIgnoresPartialFiles() throws Exception {
        HubCache cache = new HubCache(tmp);
        Path done = cache.snapshotDir("org/a", "c1");
        Files.createDirectories(done);
        Files.write(done.resolve("model.safetensors"), new byte[100]);
        Files.write(done.resolve("x.incomplete"), new byte[50]);
        cache.writeRef("org/a", "main", "c1");
        cache.writeRef("org/a", "refs/pr/1", "c1");
        Files.createDirectories(cache.snapshotDir("org/b", "c2")); // interrupted pull: no ref

        assertThat(cache.list()).containsExactly(
                new CachedModel("org/a", "main", "c1", 100, done),
                new CachedModel("org/a", "refs/pr/1", "c1", 100, done));
        assertThat(new HubCache(tmp.resolve("absent")).list()).isEmpty();
    }
}
