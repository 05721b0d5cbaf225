package dev.bulkhead.model.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubClientTest {

    private static final String REPO = "org/tiny";
    private static final byte[] WEIGHTS = randomBytes(300_000);
    private static final byte[] CONFIG = "{\"model_type\":\"llama\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TOKENIZER = "{\"version\":\"1.0\"}".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private HubStub stub;
    private HubCache cache;

    @BeforeEach
    void start() throws Exception {
        stub = new HubStub(REPO).file("config.json", CONFIG, false).file("tokenizer.json", TOKENIZER, false)
                .file("model.safetensors", WEIGHTS, true).file("README.md", "# tiny".getBytes(StandardCharsets.UTF_8), false)
                .file("pytorch_model.bin", randomBytes(1000), true);
        cache = new HubCache(tmp.resolve("cache"));
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    private HubClient client(String token) {
        return new HubClient(new HubConfig(URI.create(stub.url()), token));
    }

    private Path snapshot() {
        return cache.snapshotDir(REPO, HubStub.COMMIT);
    }

    @Test
    void listsFilesWithSizesAndChecksumsAcrossTreePages() {
        RepoFiles files = client(null).listFiles(REPO, "main");

        assertThat(files.commit()).isEqualTo(HubStub.COMMIT);
        assertThat(files.files()).extracting(HubFile::path)
                .containsExactly("config.json", "tokenizer.json", "model.safetensors", "README.md", "pytorch_model.bin");
        HubFile weights = files.files().get(2);
        assertThat(weights.size()).isEqualTo(WEIGHTS.length);
        assertThat(weights.sha256()).isEqualTo(HubStub.sha256(WEIGHTS));
        assertThat(files.files().getFirst().gitSha1()).isEqualTo(HubStub.gitSha1(CONFIG));
    }

    @Test
    void pullsTheDefaultFilesIntoTheCacheAndReportsProgress() throws Exception {
        Map<String, long[]> last = new ConcurrentHashMap<>();
        CachedModel pulled = client(null).pull(REPO, "main", HubFileFilter.DEFAULT, cache,
                (file, done, total) -> last.put(file, new long[] {done, total}));

        assertThat(pulled.path()).isEqualTo(snapshot());
        assertThat(Files.readAllBytes(snapshot().resolve("model.safetensors"))).isEqualTo(WEIGHTS);
        assertThat(Files.readAllBytes(snapshot().resolve("config.json"))).isEqualTo(CONFIG);
        assertThat(snapshot().resolve("README.md")).doesNotExist();
        assertThat(snapshot().resolve("pytorch_model.bin")).doesNotExist();
        assertThat(snapshot().resolve("model.safetensors.incomplete")).doesNotExist();
        assertThat(last.get("model.safetensors")).containsExactly(WEIGHTS.length, WEIGHTS.length);
        assertThat(pulled.sizeBytes()).isEqualTo(WEIGHTS.length + CONFIG.length + TOKENIZER.length);
        assertThat(cache.list()).containsExactly(new CachedModel(REPO, "main", HubStub.COMMIT, pulled.sizeBytes(), snapshot()));
        // NOTE: the LFS file went through the redirect to the "CDN".
        assertThat(stub.requestsFor("/cdn/model.safetensors")).hasSize(1);
    }

    @Test
    void secondPullSkipsCompleteFiles() {
        client(null).pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE);
        client(null).pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE);

        assertThat(stub.requestsFor("/cdn/model.safetensors")).hasSize(1);
    }

    @Test
    void resumesATruncatedIncompleteFileWithARangeRequest() throws Exception {
        Files.createDirectories(snapshot());
        Files.write(snapshot().resolve("model.safetensors.incomplete"), java.util.Arrays.copyOf(WEIGHTS, 1000));

        client(null).pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE);

        assertThat(stub.requestsFor("/cdn/model.safetensors")).extracting(HubStub.Seen::range).containsExactly("bytes=1000-");
        assertThat(Files.readAllBytes(snapshot().resolve("model.safetensors"))).isEqualTo(WEIGHTS);
    }

    @Test
    void startsOverWhenTheServerIgnoresRange() throws Exception {
        stub.ignoreRange = true;
        Files.createDirectories(snapshot());
        Files.write(snapshot().resolve("model.safetensors.incomplete"), java.util.Arrays.copyOf(WEIGHTS, 1000));

        client(null).pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE);

        assertThat(stub.requestsFor("/cdn/model.safetensors")).extracting(HubStub.Seen::range).containsExactly("bytes=1000-");
        assertThat(Files.readAllBytes(snapshot().resolve("model.safetensors"))).isEqualTo(WEIGHTS);
    }

    @Test
    void resumesAfterTheConnectionDropsMidFile() throws Exception {
        stub.dropAfter.put("model.safetensors", 100_000);

        client(null).pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE);

        List<HubStub.Seen> requests = stub.requestsFor("/cdn/model.safetensors");
        assertThat(requests).hasSize(2);
        assertThat(requests.get(0).range()).isNull();
        assertThat(requests.get(1).range()).matches("bytes=\\d+-").isNotEqualTo("bytes=0-");
        assertThat(Files.readAllBytes(snapshot().resolve("model.safetensors"))).isEqualTo(WEIGHTS);
    }

    @Test
    void checksumMismatchDeletesTheFileAndNamesBothHashes() {
        String wrong = "ab".repeat(32);
        stub.advertisedSha.put("model.safetensors", wrong);

        assertThatThrownBy(() -> client(null).pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("checksum mismatch for model.safetensors")
                .hasMessageContaining("expected sha256 " + wrong)
                .hasMessageContaining("got " + HubStub.sha256(WEIGHTS));
        assertThat(snapshot().resolve("model.safetensors")).doesNotExist();
        assertThat(snapshot().resolve("model.safetensors.incomplete")).doesNotExist();
        assertThat(cache.list()).isEmpty();
    }

    @Test
    void missingRepositoryIsA404NamingIt() {
        assertThatThrownBy(() -> client(null).pull("org/missing", "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("repository org/missing at revision main not found")
                .hasMessageContaining(stub.url() + "/api/models/org/missing/revision/main")
                .satisfies(e -> assertThat(((HubException) e).status()).isEqualTo(404));
    }

    @Test
    void unauthorizedAsksForATokenAndNeverPrintsOne() {
        stub.requiredToken = "hf_secret";

        assertThatThrownBy(() -> client(null).listFiles(REPO, "main"))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("HTTP 401").hasMessageContaining("needs a token: set HF_TOKEN");
        assertThatThrownBy(() -> client("hf_wrong").listFiles(REPO, "main"))
                .hasMessageContaining("token was rejected").hasMessageNotContaining("hf_wrong");

        client("hf_secret").pull(REPO, "main", HubFileFilter.DEFAULT, cache, DownloadProgress.NONE);
        assertThat(snapshot().resolve("model.safetensors")).exists();
        // NOTE: the token goes to the hub, never to the CDN it redirects to.
        assertThat(stub.requestsFor("/cdn/model.safetensors")).extracting(HubStub.Seen::authorization).containsOnlyNulls();
        assertThat(stub.requestsFor("/revision/main")).last().extracting(HubStub.Seen::authorization).isEqualTo("Bearer hf_secret");
    }

    @Test
    void includeGlobsReplaceTheDefaultFilter() {
        client(null).pull(REPO, "main", new HubFileFilter(List.of("*.json", "README.md")), cache, DownloadProgress.NONE);

        assertThat(snapshot().resolve("config.json")).exists();
        assertThat(snapshot().resolve("README.md")).exists();
        assertThat(snapshot().resolve("model.safetensors")).doesNotExist();
        assertThatThrownBy(() -> client(null).pull(REPO, "main", new HubFileFilter(List.of("*.gguf")), cache, DownloadProgress.NONE))
                .hasMessageContaining("no file of org/tiny@main matches [*.gguf]").hasMessageContaining("README.md");
    }

    @Test
    void refusesFileNamesThatLeaveTheSnapshot() {
        stub.file("../escape.json", CONFIG, false);

        assertThatThrownBy(() -> client(null).pull(REPO, "main", new HubFileFilter(List.of("**")), cache, DownloadProgress.NONE))
                .hasMessageContaining("'../escape.json'");
        assertThat(cache.root().resolve("models--org--tiny/snapshots/escape.json")).doesNotExist();
    }

    @Test
    void networkErrorsNameTheUrl() {
        HubClient dead = new HubClient(new HubConfig(URI.create("http://127.0.0.1:1"), null));

        assertThatThrownBy(() -> dead.listFiles(REPO, "main"))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("network error fetching http://127.0.0.1:1/api/models/org/tiny/revision/main");
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(7).nextBytes(b);
        return b;
    }
}
