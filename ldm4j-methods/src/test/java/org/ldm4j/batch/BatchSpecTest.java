package org.ldm4j.batch;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchSpecTest {
    static final String SPEC = """
            {"model": "m", "method": "txt2img", "prompts": ["a", "b"], "parameters": {"steps": 3},
             "grid": {"cfg": [3.0, 5.0], "scheduler": ["ddim", "euler", "pndm"]}, "seeds": {"first": 10, "count": 2},
             "output": "out"}
            """;

    @Test
    void itemsArePromptMajorThenGridThenSeed() {
        BatchSpec spec = BatchSpec.parse(SPEC, "spec");
        assertEquals(2 * 6 * 2, spec.itemCount());
        List<BatchItem> items = spec.items();
        assertEquals("a", items.get(0).prompt());
        assertEquals("b", items.get(12).prompt());
        assertEquals(List.of(10L, 11L), List.of(items.get(0).seed(), items.get(1).seed()));
        assertEquals("ddim", items.get(0).parameters().get("scheduler"));
        assertEquals("euler", items.get(2).parameters().get("scheduler"));   // the last grid key varies fastest
        assertEquals(5.0, items.get(6).parameters().get("cfg"));
        assertEquals(3, items.get(6).parameters().get("steps"));
        assertEquals(24, items.stream().map(BatchItem::id).collect(Collectors.toSet()).size());
        for (int i = 0; i < 24; i++) assertEquals(items.get(i), spec.item(i), "item " + i + " from its index alone");
    }

    @Test
    void idsDependOnContentNotOnKeyOrder() {
        String reordered = """
                {"output": "elsewhere", "seeds": {"count": 2, "first": 10}, "grid": {"cfg": [3.0, 5.0], "scheduler": ["ddim", "euler", "pndm"]},
                 "parameters": {"steps": 3}, "prompts": ["a", "b"], "method": "txt2img", "model": "m"}
                """;
        assertEquals(BatchSpec.parse(SPEC, "a").items(), BatchSpec.parse(reordered, "b").items());
        BatchSpec moreSteps = BatchSpec.parse(SPEC.replace("\"steps\": 3", "\"steps\": 4"), "c");
        assertNotEquals(BatchSpec.parse(SPEC, "a").item(0).id(), moreSteps.item(0).id());
        assertTrue(moreSteps.item(0).id().startsWith("000000-"));
    }

    @Test
    void seedsAsListAndPromptFileText() {
        BatchSpec spec = BatchSpec.parse(SPEC.replace("{\"first\": 10, \"count\": 2}", "[5, 1, 5]")
                .replace("\"prompts\": [\"a\", \"b\"]", "\"promptFile\": \"p.txt\""), "spec");
        assertThrows(IllegalStateException.class, spec::itemCount);
        BatchSpec resolved = spec.withPromptText("# comment\nfirst prompt\n\n  second prompt  \r\n", "p.txt");
        assertEquals(List.of("first prompt", "second prompt"), resolved.prompts());
        assertEquals(2 * 6 * 3, resolved.itemCount());
        assertEquals(List.of(5L, 1L, 5L), resolved.items().subList(0, 3).stream().map(BatchItem::seed).toList());
        assertEquals(resolved, BatchSpec.parse(resolved.toJson(), "round trip"));
    }

    @Test
    void badSpecsFailNamingTheProblem() {
        assertMessage("unknown parameter 'stpes'", SPEC.replace("\"steps\"", "\"stpes\""));
        assertMessage("strength", SPEC.replace("\"steps\": 3", "\"strength\": 0.5"));   // img2img only
        assertMessage("fgdm is not supported", SPEC.replace("txt2img", "fgdm"));
        assertMessage("unknown method 'paint'", SPEC.replace("txt2img", "paint"));
        assertMessage("outptu", SPEC.replace("\"output\"", "\"outptu\""));
        assertMessage("seeds.count must be >= 1", SPEC.replace("\"count\": 2", "\"count\": 0"));
        assertMessage("grid.cfg has no values", SPEC.replace("[3.0, 5.0]", "[]"));
        assertMessage("exactly one of prompts and promptFile", SPEC.replace("\"prompts\"", "\"promptFile\": \"x\", \"prompts\""));
        for (String m : Set.of("img2img", "stroke2img", "edit")) BatchSpec.parse(SPEC.replace("txt2img", m), m);
    }

    private static void assertMessage(String expected, String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchSpec.parse(json, "job.json"));
        assertTrue(e.getMessage().startsWith("job.json: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
