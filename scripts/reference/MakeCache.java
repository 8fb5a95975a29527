/*
 * Writes a Hugging Face cache with ldm4j's HfHub, downloading from a local server that serves a folder in the Hub's
 * URL layout (the engine tests' HubTestServer), for hub_cache_reference.py. From the repository root, after a build:
 *   java -cp "ldm4j-engine/target/test-classes:ldm4j-engine/target/classes:ldm4j-cli/target/lib/*" \
 *       scripts/reference/MakeCache.java ldm4j-engine/src/test/resources/diffusers-reference/tiny-sd15 .ref/hfcache/hub
 */
import org.ldm4j.weights.HfHub;
import org.ldm4j.weights.HubTestServer;
import java.nio.file.Path;

public class MakeCache {
    public static void main(String[] a) throws Exception {
        try (HubTestServer server = new HubTestServer("tiny-org/tiny-sd15", "89abcdef0123456789abcdef0123456789abcdef", Path.of(a[0]))) {
            HfHub hub = new HfHub(Path.of(a[1]), server.endpoint(), null, false, false);
            System.out.println(hub.pipeline("tiny-org/tiny-sd15", "main", null));
        }
    }
}
