package dev.bulkhead.model.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pull} against a stand-in hub with one fault each: what a user would meet on a bad network or mirror. */
class HubFaultsTest {

    private static final String REPO = "org/tiny";
    private static final byte[] WEIGHTS = new byte[300_000];
    private static final byte[] CONFIG = "{\"model_type\":\"llama\"}".getBytes(StandardCharsets.UTF_8);
    private static final Duration READ_TIMEOUT = Duration.ofMillis(300);

    static {
        new Random(7).nextBytes(WEIGHTS);
    }

    @TempDir
    Path tmp;

    private HubStub stub;
    private HubCache cache;

    @BeforeEach
    void start() throws Exception {
        stub = new HubStub(REPO).file("config.json", CONFIG, false).file("model.safetensors", WEIGHTS, true);
        cache = new HubCache(tmp.resolve("cache"));
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    private CachedModel pull(String token) {
        return new HubClient(new HubConfig(URI.create(stub.url()), token), READ_TIMEOUT)
                .pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE);
    }

    private Path file(String name) {
        return cache.snapshotDir(REPO, HubStub.COMMIT).resolve(name);
    }

    @Test
    void stallMidFileTimesOutAndResumesFromTheBytesAlreadyThere() throws Exception {
        stub.stallAfter.put("model.safetensors", 120_000);
        long start = System.nanoTime();

        pull(null);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        List<HubStub.Seen> requests = stub.requestsFor("/cdn/model.safetensors");
        assertThat(requests).hasSize(2);
        assertThat(requests.get(1).range()).matches("bytes=\\d+-").isNotEqualTo("bytes=0-");
        assertThat(Files.readAllBytes(file("model.safetensors"))).isEqualTo(WEIGHTS);
    }

    @Test
    void droppedConnectionResumesWithARangeRequest() throws Exception {
        stub.dropAfter.put("model.safetensors", 100_000);

        pull(null);

        assertThat(stub.requestsFor("/cdn/model.safetensors")).extracting(HubStub.Seen::range)
                .hasSize(2).last().asString().matches("bytes=\\d+-");
        assertThat(Files.readAllBytes(file("model.safetensors"))).isEqualTo(WEIGHTS);
    }

    @Test
    void corruptByteFailsTheSha256CheckDeletesTheFileAndTheNextPullIsClean() throws Exception {
        stub.corrupt.add("model.safetensors");

        assertThatThrownBy(() -> pull(null)).isInstanceOf(HubException.class)
                .hasMessageContaining("checksum mismatch for model.safetensors")
                .hasMessageContaining("expected sha256 " + HubStub.sha256(WEIGHTS))
                .hasMessageContaining("run pull again");
        assertThat(file("model.safetensors")).doesNotExist();
        assertThat(file("model.safetensors.incomplete")).doesNotExist();
        assertThat(cache.list()).isEmpty();

        stub.corrupt.clear();
        pull(null);
        assertThat(Files.readAllBytes(file("model.safetensors"))).isEqualTo(WEIGHTS);
    }

    @Test
    void unauthorized401SaysToSetATokenWithoutPrintingOne() {
        stub.requiredToken = "hf_secret";

        assertThatThrownBy(() -> pull(null)).isInstanceOf(HubException.class).hasMessageContaining("HTTP 401")
                .hasMessageContaining("set HF_TOKEN")
                .satisfies(e -> assertThat(((HubException) e).status()).isEqualTo(401));
        assertThatThrownBy(() -> pull("hf_wrong")).hasMessageContaining("token was rejected")
                .hasMessageNotContaining("hf_wrong");
    }

    @Test
    void missingFile404NamesTheFileAndKeepsNoRef() {
        stub.unresolvable.add("model.safetensors");

        assertThatThrownBy(() -> pull(null)).isInstanceOf(HubException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("HTTP 404")
                .satisfies(e -> assertThat(((HubException) e).status()).isEqualTo(404));
        assertThat(cache.list()).isEmpty();
    }

    @Test
    void mirrorWithoutTreeApiTakesSizesAndChecksumsFromHead() throws Exception {
        stub.noTreeApi = true;

        CachedModel m = pull(null);

        assertThat(m.sizeBytes()).isEqualTo(WEIGHTS.length + CONFIG.length);
        assertThat(Files.readAllBytes(file("model.safetensors"))).isEqualTo(WEIGHTS);
        assertThat(stub.requestsFor("/tree/" + HubStub.COMMIT)).isNotEmpty();
        assertThat(stub.requestsFor("/resolve/" + HubStub.COMMIT + "/model.safetensors")).isNotEmpty();
    }

    @Test
    void mirrorWithoutTreeApiStillCatchesACorruptByteThroughXLinkedEtag() {
        stub.noTreeApi = true;
        stub.corrupt.add("model.safetensors");

        assertThatThrownBy(() -> pull(null)).isInstanceOf(HubException.class)
                .hasMessageContaining("checksum mismatch for model.safetensors")
                .hasMessageContaining("expected sha256 " + HubStub.sha256(WEIGHTS));
    }

    @Test
    void mirrorWithoutTreeApiChecksAPlainFileAgainstItsGitBlobEtag() {
        stub.noTreeApi = true;
        stub.corrupt.add("config.json");

        assertThatThrownBy(() -> pull(null)).isInstanceOf(HubException.class)
                .hasMessageContaining("checksum mismatch for config.json")
                .hasMessageContaining("expected git sha1 " + HubStub.gitSha1(CONFIG));
    }
}
