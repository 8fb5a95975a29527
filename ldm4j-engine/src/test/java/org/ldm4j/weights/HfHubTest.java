package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** HfHub against a local server on 127.0.0.1 that serves the Hub's URL layout; no real host is contacted. */
class HfHubTest {
    static final String REPO = "tiny-org/tiny-sd";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir Path dir;
    HubTestServer server;
    Path repoFiles;
    Map<String, Map<String, Tensor>> written;
    List<String> requests;   // "METHOD path range auth"

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    @BeforeEach void serve() throws IOException {
        torch.manual_seed(0);
        repoFiles = dir.resolve("remote");
        written = TinyModels.writeDiffusersFolder(repoFiles);
        Files.write(repoFiles.resolve("v1-5-pruned.ckpt"), new byte[100]);                 // must not be fetched
        SafetensorsWriter.write(repoFiles.resolve("safety_checker/model.safetensors"), Map.of("x", torch.zeros(1)));
        server = new HubTestServer(REPO, COMMIT, repoFiles);
        requests = server.requests();
    }

    @AfterEach void stop() { if (server != null) server.close(); }

    static String etagOf(byte[] content, boolean lfs) { return HubTestServer.etag(content, lfs); }

    HfHub hub(boolean offline) {
        return new HfHub(dir.resolve("hf/hub"), server.endpoint(), "secret-token", offline, false);
    }

    @Test void downloadsOnlyPipelineFilesIntoTheCacheLayout() throws Exception {
        Path snap = hub(false).pipeline(REPO, "main", "fp16");
        Path repo = dir.resolve("hf/hub/models--tiny-org--tiny-sd");
        assertEquals(repo.resolve("snapshots").resolve(COMMIT), snap);
        assertEquals(COMMIT, Files.readString(repo.resolve("refs/main")));
        assertTrue(Files.isSymbolicLink(snap.resolve("unet/config.json")));
        String vaeEtag = etagOf(Files.readAllBytes(repoFiles.resolve("vae/diffusion_pytorch_model.fp16.safetensors")), true);
        assertEquals(repo.resolve("blobs").resolve(vaeEtag), snap.resolve("vae/diffusion_pytorch_model.fp16.safetensors").toRealPath());
        // fp16 where the repo has it (vae), default weights elsewhere; no .ckpt, no safety checker weights
        assertTrue(Files.exists(snap.resolve("vae/diffusion_pytorch_model.fp16.safetensors")));
        assertFalse(Files.exists(snap.resolve("vae/diffusion_pytorch_model.safetensors")));
        assertTrue(Files.exists(snap.resolve("unet/diffusion_pytorch_model-00002-of-00002.safetensors")));
        assertTrue(Files.exists(snap.resolve("tokenizer/merges.txt")));
        assertFalse(Files.exists(snap.resolve("v1-5-pruned.ckpt")));
        assertFalse(Files.exists(snap.resolve("safety_checker/model.safetensors")));
        assertTrue(requests.stream().noneMatch(r -> r.contains(".ckpt")), requests.toString());
        assertTrue(requests.stream().allMatch(r -> r.endsWith("Bearer secret-token")), requests.toString());

        DiffusersFolder folder = DiffusersFolder.open(snap);
        try (WeightSource unet = folder.weights("unet"); WeightSource vae = folder.weights("vae", "fp16")) {
            DiffusersFolderTest.assertSameTensors(written.get("unet"), unet, Map.of());
            assertEquals("F16", vae.info("decoder.conv_out.weight").dtype());
        }

        int before = requests.size();
        hub(false).pipeline(REPO, "main", "fp16");   // cached: only the file list is asked again
        assertEquals(before + 1, requests.size(), requests.subList(before, requests.size()).toString());
    }

    /** A transformers repository (a CLIP ranker's): config, tokenizer and safetensors weights; never TF, Flax or a second copy. */
    @Test void transformersModelsFetchOneCopyOfTheWeights() throws Exception {
        Path remote = dir.resolve("clip-remote");
        Files.createDirectories(remote);
        for (String f : List.of("config.json", "vocab.json", "merges.txt", "tokenizer_config.json")) Files.writeString(remote.resolve(f), "{}");
        SafetensorsWriter.write(remote.resolve("model.safetensors"), Map.of("x", torch.zeros(1)));
        for (String f : List.of("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")) Files.write(remote.resolve(f), new byte[64]);
        try (HubTestServer clip = new HubTestServer("openai/clip-tiny", COMMIT, remote)) {
            Path snap = new HfHub(dir.resolve("hf/hub"), clip.endpoint(), null, false, false).transformersModel("openai/clip-tiny", "main");
            for (String f : List.of("config.json", "vocab.json", "merges.txt", "tokenizer_config.json", "model.safetensors")) {
                assertTrue(Files.exists(snap.resolve(f)), f);
            }
            for (String f : List.of("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")) assertFalse(Files.exists(snap.resolve(f)), f);
        }
        // without safetensors, the PyTorch weights (read weights-only)
        Files.delete(remote.resolve("model.safetensors"));
        try (HubTestServer clip = new HubTestServer("openai/clip-bin", COMMIT, remote)) {
            Path snap = new HfHub(dir.resolve("hf/hub"), clip.endpoint(), null, false, false).transformersModel("openai/clip-bin", "main");
            assertTrue(Files.exists(snap.resolve("pytorch_model.bin")));
            assertFalse(Files.exists(snap.resolve("tf_model.h5")));
        }
    }

    @Test void resumesAPartialDownloadWithARangeRequest() throws Exception {
        byte[] content = Files.readAllBytes(repoFiles.resolve("text_encoder/model.safetensors"));
        String etag = etagOf(content, true);
        Path blobs = dir.resolve("hf/hub/models--tiny-org--tiny-sd/blobs");
        Files.createDirectories(blobs);
        int half = content.length / 2;
        Files.write(blobs.resolve(etag + ".incomplete"), java.util.Arrays.copyOf(content, half));

        Path got = hub(false).download(REPO, COMMIT, "text_encoder/model.safetensors");
        assertArrayEquals(content, Files.readAllBytes(got));
        assertTrue(requests.stream().anyMatch(r -> r.startsWith("GET ") && r.contains("bytes=" + half + "-")), requests.toString());
        assertFalse(Files.exists(blobs.resolve(etag + ".incomplete")));
        try (SafetensorsFile f = SafetensorsFile.open(got)) {
            DiffusersFolderTest.assertSameTensors(written.get("text_encoder"), f, Map.of());
        }
    }

    @Test void corruptPartialDataIsCaughtBySha256() throws Exception {
        byte[] content = Files.readAllBytes(repoFiles.resolve("text_encoder/model.safetensors"));
        String etag = etagOf(content, true);
        Path blobs = dir.resolve("hf/hub/models--tiny-org--tiny-sd/blobs");
        Files.createDirectories(blobs);
        Files.write(blobs.resolve(etag + ".incomplete"), new byte[content.length / 2]);   // wrong bytes
        IOException e = assertThrows(IOException.class, () -> hub(false).download(REPO, COMMIT, "text_encoder/model.safetensors"));
        assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        assertFalse(Files.exists(blobs.resolve(etag)));
    }

    @Test void offlineModeUsesOnlyTheCache() throws Exception {
        hub(false).pipeline(REPO, "main", null);
        hub(false).pipeline(REPO, "main", "fp16");
        URI gone = server.endpoint();
        server.close();
        server = null;
        int before = requests.size();
        Path snap = new HfHub(dir.resolve("hf/hub"), gone, null, true, false).pipeline(REPO, "main", null);
        assertEquals(before, requests.size());
        DiffusersFolderTest.assertLoadsLikeWritten(snap, written);
    }

    @Test void offlineMissEnvironmentAndErrors() throws Exception {
        IOException e = assertThrows(IOException.class, () -> hub(true).pipeline("other/model", "main", null));
        assertTrue(e.getMessage().contains("offline") && e.getMessage().contains("other/model"), e.getMessage());
        e = assertThrows(IOException.class, () -> hub(false).pipeline("tiny-org/absent", "main", null));
        assertTrue(e.getMessage().contains("404"), e.getMessage());

        HfHub env = HfHub.fromEnvironment(Map.of("HF_HOME", "/x/hf", "HF_HUB_OFFLINE", "1"));
        assertEquals(Path.of("/x/hf/hub"), env.cacheDir());
        assertTrue(env.offline());
        assertEquals(Path.of("/y/cache"), HfHub.fromEnvironment(Map.of("HF_HOME", "/x/hf", "HF_HUB_CACHE", "/y/cache")).cacheDir());
        assertEquals(Path.of("/x/hf/hub/models--org--name"), env.repoDir("org/name"));
        assertThrows(IllegalArgumentException.class, () -> env.repoDir("../etc"));
        assertEquals("abc", HfHub.normalizeEtag("W/\"abc\""));
    }

    /**
     * A hub that cannot be reached (a closed port, a host name that does not resolve) is one message naming the model,
     * the host and why, and whether the cache could serve instead; never the JDK's bare "null".
     */
    @Test void anUnreachableHubIsNamedWithTheReasonAndTheCache() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        HfHub refused = new HfHub(dir.resolve("hf/hub"), URI.create("http://127.0.0.1:" + closed), null, false, false);
        String m = assertThrows(IOException.class, () -> refused.pipeline(REPO, "main", null)).getMessage();
        assertTrue(m.startsWith(REPO + "@main: cannot reach 127.0.0.1:" + closed + " (") && m.contains("not in the cache " + dir.resolve("hf/hub")), m);
        assertFalse(m.contains("null"), m);

        HfHub nowhere = new HfHub(dir.resolve("hf/hub"), URI.create("http://no-such-host.invalid"), null, false, false);
        String host = assertThrows(IOException.class, () -> nowhere.pipeline(REPO, "main", null)).getMessage();
        assertTrue(host.contains("cannot reach no-such-host.invalid (its host name does not resolve"), host);

        Path online = hub(false).pipeline(REPO, "main", null);   // now cached: an unreachable hub serves it from the cache
        assertEquals(online, refused.pipeline(REPO, "main", null));
        String other = assertThrows(IOException.class, () -> refused.pipeline(REPO, "v2", null)).getMessage();
        assertTrue(other.contains("not in the cache"), "another revision is not: " + other);
    }
}
