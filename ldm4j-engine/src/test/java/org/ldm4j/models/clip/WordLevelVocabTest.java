package org.ldm4j.models.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class WordLevelVocabTest {
    // "ab"/"cab"/"abc"/"bc"/"a" overlap on purpose: a naive left-to-right merge chain would split some of them.
    static final List<String> WORDS = List.of("ab", "cab", "abc", "bc", "a", "red", "reddish", "cube", "cubes",
            "sphere", "left", "of", "on", "the", "'s", "café", "x", "ba", "aba", "bab");

    @Test void everyKnownWordIsExactlyOneToken(@TempDir Path dir) throws IOException {
        CLIPTokenizer.writeWordLevelVocab(WORDS, dir);
        CLIPTokenizer t = CLIPTokenizer.load(dir);
        for (String w : WORDS) {
            List<String> tokens = t.tokenize(w);
            assertEquals(List.of(ByteLevelBpe.toByteUnicode(w) + "</w>"), tokens, "word " + w);
        }
        CLIPTokenizer.Encoding e = t.encode("The red cube left of the sphere");
        assertEquals(7, e.tokenCount());
        for (CLIPTokenizer.WordSpan s : e.words()) assertEquals(1, s.tokenIndices().length, s.word());
        assertEquals("the red cube left of the sphere", t.decode(e.ids()));
    }

    @Test void unknownWordsStillEncodeIntoKnownSymbols(@TempDir Path dir) throws IOException {
        CLIPTokenizer.writeWordLevelVocab(WORDS, dir);
        CLIPTokenizer t = CLIPTokenizer.load(dir);
        Map<String, Integer> vocab = CLIPTokenizer.readVocab(Files.newInputStream(dir.resolve("vocab.json")), "v");
        for (String prompt : List.of("zebra", "redcube", "42 ünïcødé 猫!", "cabbage")) {
            for (String token : t.tokenize(prompt)) assertTrue(vocab.containsKey(token), "token " + token + " of " + prompt);
            CLIPTokenizer.Encoding e = t.encode(prompt);
            assertEquals(e.text().replace(" ", ""), t.decode(e.ids()).replace(" ", ""));
        }
        assertTrue(t.tokenize("zebra").size() > 1);
    }

    @Test void layoutIsClipsWithSpecialTokensLast(@TempDir Path dir) throws IOException {
        CLIPTokenizer.writeWordLevelVocab(WORDS, dir);
        JsonNode v = new ObjectMapper().readTree(dir.resolve("vocab.json").toFile());
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) keys.add(it.next());
        for (int i = 0; i < keys.size(); i++) assertEquals(i, v.get(keys.get(i)).asInt(), keys.get(i));
        assertEquals("<|startoftext|>", keys.get(keys.size() - 2));
        assertEquals("<|endoftext|>", keys.get(keys.size() - 1));
        assertEquals(ByteLevelBpe.byteAlphabet(), keys.subList(0, 256));
        assertEquals("!</w>", keys.get(256));
        List<String> merges = Files.readAllLines(dir.resolve("merges.txt"));
        assertEquals("#version: 0.2", merges.get(0));
        assertTrue(keys.size() <= 512 + (merges.size() - 1) + 2);
    }

    @Test void rejectsWordsThatCannotBeOneToken(@TempDir Path dir) {
        for (String bad : List.of("Red", "two words", "3d", "a-b", "", "<|endoftext|>")) {
            assertThrows(IllegalArgumentException.class, () -> CLIPTokenizer.writeWordLevelVocab(List.of(bad), dir), bad);
        }
    }
}
