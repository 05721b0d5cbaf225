package dev.bulkhead.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.model.hub.HubCache;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --model ORG/NAME}: found in the pull cache, or an error that gives the pull command to run. */
class ModelReferenceTest {

    @TempDir
    Path tmp;

    private HubCache pulled(String repo, boolean complete) throws Exception {
        HubCache cache = new HubCache(tmp.resolve("hub"));
        Path snapshot = cache.snapshotDir(repo, "c0ffee");
        Files.createDirectories(snapshot);
        Files.writeString(snapshot.resolve("config.json"), "{}");
        if (complete) {
            Files.writeString(snapshot.resolve("tokenizer.json"), "{}");
            Files.write(snapshot.resolve("model.safetensors"), new byte[8]);
        }
        cache.writeRef(repo, "main", "c0ffee");
        return cache;
    }

    @Test
    void aPulledRepoIdResolvesToItsSnapshotAndKeepsItsNameForSummaries() throws Exception {
        HubCache cache = pulled("test-org/stories260K", true);

        ModelReference ref = ModelReference.resolve("test-org/stories260K", cache);

        assertThat(ref.spec()).isEqualTo(cache.snapshotDir("test-org/stories260K", "c0ffee").toString());
        assertThat(ref.name()).isEqualTo("test-org/stories260K");
    }

    @Test
    void aRepoIdNotPulledSaysWhichCommandPullsIt() {
        assertThatThrownBy(() -> ModelReference.resolve("test-org/stories260K", new HubCache(tmp.resolve("none"))))
                .hasMessageContaining("test-org/stories260K is neither a file nor a directory here, nor a model pulled")
                .hasMessageEndingWith("download it with: ./bulkhead pull test-org/stories260K");
    }

    @Test
    void aPartlyPulledRepoSaysWhatIsMissing() throws Exception {
        HubCache cache = pulled("test-org/partial", false);

        assertThatThrownBy(() -> ModelReference.resolve("test-org/partial", cache))
                .hasMessageContaining("was only partly pulled").hasMessageContaining("no tokenizer.json")
                .hasMessageEndingWith("./bulkhead pull test-org/partial");
    }

    @Test
    void anExistingPathWinsOverTheCacheAndTheEmbeddedNameIsTheDefault() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("org/local"));
        ModelReference ref = ModelReference.resolve(dir.toString(), new HubCache(tmp.resolve("none")));
        assertThat(ref.spec()).isEqualTo(dir.toString());
        assertThat(ref.name()).isEqualTo("local");
        assertThat(ModelReference.resolve(null, new HubCache(tmp)).spec()).isNull();
        assertThat(ModelReference.resolve("stories260K", new HubCache(tmp)).name()).isEqualTo("stories260K");
    }
}
