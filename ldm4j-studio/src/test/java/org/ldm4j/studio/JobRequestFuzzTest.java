package org.ldm4j.studio;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import org.ldm4j.pipeline.GenerationRequest;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the studio's job-request validation without a server: the body bytes go through what
 * {@code POST /api/jobs} does before queueing (StudioServer.parseJson, the mode lookup, {@link Mode#prepare} with
 * {@link RequestFields}, including img2img's PNG data-URL decoding). Contract (ApiError javadoc): a bad request is an
 * {@link ApiError} with a 4xx status and a message, never another exception (that would be a 500); a request that
 * passes is within the {@link Limits}.
 */
class JobRequestFuzzTest {
    static final ModelInfo MODEL = new ModelInfo("tiny", "tiny", 16, 2, "pndm", 25, 5.0);
    static final Limits LIMITS = new Limits(64, 50, 4, 200, 256 * 1024, 2, 1);
    /** The factor-graph modes reach the validation that needs the model, then get the studio's 503 with this reason. */
    static final String NO_FACTOR_GRAPH = "no FG-DM factors (fuzz harness)";
    private static final MethodHandle PARSE_JSON;
    static {
        try {
            Method m = StudioServer.class.getDeclaredMethod("parseJson", byte[].class);
            m.setAccessible(true);
            PARSE_JSON = MethodHandles.lookup().unreflect(m);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"\"mode\"", "\"txt2img\"", "\"img2img\"", "\"prompt\"", "\"width\"", "\"height\"", "\"steps\"",
            "\"count\"", "\"seed\"", "\"scheduler\"", "\"eta\"", "\"strength\"", "\"initImage\"", "\"data:image/png;base64,",
            "\"guidanceScale\"", "\"clipSkip\"", "\"model\"", "\"negativePrompt\"", "\"ddim\"", "1e400", "-1", "null"})
    void validate(byte[] body) {
        try {
            JsonNode node = (JsonNode) PARSE_JSON.invokeExact(body);
            JsonNode modeNode = node.get("mode");
            if (modeNode != null && !modeNode.isTextual()) throw ApiError.badRequest("mode must be a string");
            Mode mode = Modes.get(modeNode == null ? null : modeNode.textValue());
            GenerationRequest r = mode.prepare(new RequestFields(node, MODEL, LIMITS, mode.extraFields())
                    .withFactorGraph(null, NO_FACTOR_GRAPH)).request();
            assertTrue(r.width() >= 1 && r.width() <= LIMITS.maxSide() && r.height() >= 1 && r.height() <= LIMITS.maxSide(), r.toString());
            assertTrue(r.steps() >= 1 && r.steps() <= LIMITS.maxSteps() && r.count() >= 1 && r.count() <= LIMITS.maxCount(), r.toString());
            assertTrue(r.width() % MODEL.vaeScaleFactor() == 0 && r.seed() >= 0, r.toString());
        } catch (ApiError e) {
            // 503 is the server's own state, not the request's fault: this harness has no FG-DM, as a studio without one
            boolean serverState = e.status == 503 && NO_FACTOR_GRAPH.equals(e.getMessage());
            assertTrue(serverState || (e.status >= 400 && e.status < 500), "status " + e.status + ": " + e.getMessage());
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "ApiError without a message");
        } catch (VirtualMachineError | AssertionError e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("a bad request escaped as " + t.getClass().getName() + " (a 500): " + t.getMessage(), t);
        }
    }
}
