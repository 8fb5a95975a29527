package org.ldm4j.models.clip;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CLIPTokenizerTest {
    static final int BOS = 49406, EOS = 49407;
    /** ids of the tiny vocabulary's word tokens, see {@link #tiny} */
    static final int LO = 512, HEL = 514, RED = 516, CAR = 518;

    /** CLIP's layout: 256 byte chars, the same with </w>, then the given extra tokens, then specials at 49406/49407. */
    static Map<String, Integer> baseVocab(Map<String, Integer> extra) {
        Map<String, Integer> v = new HashMap<>();
        List<String> alphabet = ByteLevelBpe.byteAlphabet();
        for (int i = 0; i < 256; i++) {
            v.put(alphabet.get(i), i);
            v.put(alphabet.get(i) + "</w>", 256 + i);
        }
        v.putAll(extra);
        v.put("<|startoftext|>", BOS);
        v.put("<|endoftext|>", EOS);
        return v;
    }

    /** Merges building each word from its letters left to right (prefix chains). */
    static List<String[]> chainMerges(String... words) {
        List<String[]> merges = new ArrayList<>();
        for (String w : words) {
            String prefix = w.substring(0, 1);
            for (int i = 1; i < w.length(); i++) {
                String next = w.substring(i, i + 1) + (i == w.length() - 1 ? "</w>" : "");
                merges.add(new String[]{prefix, next});
                prefix = prefix + next;
            }
        }
        return merges;
    }

    /** A tiny tokenizer: "hello" splits as hel + lo</w>; "red", "car", "blue" are whole words. */
    static CLIPTokenizer tiny(CLIPTokenizer.Options options) {
        List<String[]> merges = new ArrayList<>();
        merges.add(new String[]{"l", "o</w>"});
        merges.add(new String[]{"h", "e"});
        merges.add(new String[]{"he", "l"});
        merges.addAll(chainMerges("red", "car", "blue"));
        Map<String, Integer> extra = new HashMap<>();
        int id = 512;
        for (String t : List.of("lo</w>", "he", "hel", "re", "red</w>", "ca", "car</w>", "bl", "blu", "blue</w>")) extra.put(t, id++);
        return new CLIPTokenizer(baseVocab(extra), merges, options);
    }

    static int byteId(char c, boolean endOfWord) {
        return ByteLevelBpe.byteAlphabet().indexOf(String.valueOf(c)) + (endOfWord ? 256 : 0);
    }

    @Test void byteAlphabetMatchesClipIds() {
        // Published CLIP ids: "a</w>" = 320, "n</w>" = 333, ".</w>" = 269 (OpenAI/HF vocab), all derived from the table.
        assertEquals(320, byteId('a', true));
        assertEquals(333, byteId('n', true));
        assertEquals(269, byteId('.', true));
        assertEquals("\u0120", ByteLevelBpe.toByteUnicode(" "));   // space -> 'Ġ', GPT-2's famous mapping
        assertEquals("h\u00c3\u00a9", ByteLevelBpe.toByteUnicode("hé"));
        assertEquals("hé ü", ByteLevelBpe.fromByteUnicode(ByteLevelBpe.toByteUnicode("hé ü")));
    }

    @Test void knownSplitsFollowMergeRanks() {
        CLIPTokenizer t = tiny(CLIPTokenizer.Options.sd1());
        assertEquals(List.of("hel", "lo</w>"), t.tokenize("hello"));
        assertEquals(List.of("red</w>", "car</w>"), t.tokenize("red car"));
        // no merge for "x": single byte symbols, last one with </w>
        assertEquals(List.of("x", "y", "z</w>"), t.tokenize("xyz"));
        assertEquals(List.of("red</w>", ",</w>", "blue</w>", "!", "!", "!</w>"), t.tokenize("red, blue!!!"));   // no "!" merges
    }

    @Test void digitsAreSinglePieces() {
        CLIPTokenizer t = tiny(CLIPTokenizer.Options.sd1());
        assertEquals(List.of("2</w>", "0</w>", "2</w>", "4</w>"), t.tokenize("2024"));
        CLIPTokenizer.Encoding e = t.encode("1girl");
        assertEquals(byteId('1', true), e.ids()[1]);
        assertEquals(List.of("1", "girl"), e.words().stream().map(CLIPTokenizer.WordSpan::word).toList());
    }

    @Test void contractionsAndSpecialTokensAreKept() {
        CLIPTokenizer t = tiny(CLIPTokenizer.Options.sd1());
        assertEquals(List.of("red", "'s", "car"), t.encode("RED'S car").words().stream().map(CLIPTokenizer.WordSpan::word).toList());
        CLIPTokenizer.Encoding e = t.encode("red<|endoftext|>car");
        assertArrayEquals(new int[]{BOS, RED, EOS, CAR, EOS}, Arrays.copyOf(e.ids(), 5));
    }

    @Test void cleaningCollapsesWhitespaceAndLowercases() {
        CLIPTokenizer t = tiny(CLIPTokenizer.Options.sd1());
        CLIPTokenizer.Encoding e = t.encode("  A\tRed\n\n CAR\u00a0 ");
        assertEquals("a red car", e.text());
        assertArrayEquals(t.encode("a red car").ids(), e.ids());
        assertEquals("caf\u00e9", CLIPTextCleaner.clean("CAFE\u0301"));              // NFC composes, accents kept
        assertEquals("ab", CLIPTextCleaner.clean("a\u200bb\u0000"));                  // format/control chars dropped
        assertEquals("a \u732b b", CLIPTextCleaner.clean("a\u732bb"));               // CJK ideographs become words
        assertEquals("a & b", CLIPTextCleaner.clean("a &amp;amp; b", true));         // OpenAI's double unescape
        assertEquals("a &amp; b", CLIPTextCleaner.clean("a &amp; b"));               // HF without ftfy: untouched
    }

    @Test void padsWithEosForSd1AndWithBangForSd2() {
        CLIPTokenizer.Encoding sd1 = tiny(CLIPTokenizer.Options.sd1()).encode("red car");
        assertEquals(77, sd1.ids().length);
        assertArrayEquals(new int[]{BOS, RED, CAR, EOS, EOS}, Arrays.copyOf(sd1.ids(), 5));
        assertEquals(EOS, sd1.ids()[76]);
        assertEquals(4, Arrays.stream(sd1.attentionMask()).sum());
        assertEquals(3, sd1.eosIndex());

        CLIPTokenizer sd2 = tiny(CLIPTokenizer.Options.sd2());
        assertEquals(0, sd2.padId());
        CLIPTokenizer.Encoding e = sd2.encode("red car");
        assertArrayEquals(new int[]{BOS, RED, CAR, EOS, 0, 0}, Arrays.copyOf(e.ids(), 6));
        assertEquals(0, e.ids()[76]);
        assertEquals("red car", sd2.decode(e.ids()));
    }

    @Test void emptyPromptIsBosEosPadding() {
        CLIPTokenizer.Encoding e = tiny(CLIPTokenizer.Options.sd1()).encode("   ");
        assertEquals(BOS, e.ids()[0]);
        assertEquals(EOS, e.ids()[1]);
        assertTrue(Arrays.stream(e.ids()).skip(1).allMatch(id -> id == EOS));
        assertEquals(0, e.tokenCount());
        assertFalse(e.truncated());
        assertTrue(e.words().isEmpty());
    }

    @Test void truncationKeepsEosAndReportsDroppedText() {
        CLIPTokenizer t = tiny(CLIPTokenizer.Options.sd1());
        CLIPTokenizer.Encoding e = t.encode("red ".repeat(75) + "car hello blue");
        assertTrue(e.truncated());
        assertEquals(75, e.tokenCount());
        assertEquals(EOS, e.ids()[76]);
        assertEquals(RED, e.ids()[75]);
        assertEquals("car hello blue", e.droppedText());
        assertEquals(0, e.words().get(75).tokenIndices().length);
        assertEquals(77, Arrays.stream(e.attentionMask()).sum());

        // a word cut in the middle: "hello" is hel + lo</w>, only "hel" fits into a 5-slot sequence
        CLIPTokenizer small = tiny(CLIPTokenizer.Options.sd1().withMaxLength(5));
        CLIPTokenizer.Encoding cut = small.encode("red car hello blue");
        assertArrayEquals(new int[]{BOS, RED, CAR, HEL, EOS}, cut.ids());
        assertEquals("hello blue", cut.droppedText());
        assertArrayEquals(new int[]{3}, cut.words().get(2).tokenIndices());
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> small.tokenIndicesOf("hello", cut));
        assertTrue(ex.getMessage().contains("truncation"), ex.getMessage());

        CLIPTokenizer.Encoding exact = t.encode("red ".repeat(75));
        assertFalse(exact.truncated());
        assertEquals("", exact.droppedText());
    }

    @Test void wordSpansMapWordsToTokenPositions() {
        CLIPTokenizer t = tiny(CLIPTokenizer.Options.sd1());
        CLIPTokenizer.Encoding e = t.encode("Hello,  RED car");
        assertEquals("hello, red car", e.text());
        List<CLIPTokenizer.WordSpan> w = e.words();
        assertEquals(List.of("hello", ",", "red", "car"), w.stream().map(CLIPTokenizer.WordSpan::word).toList());
        assertArrayEquals(new int[]{1, 2}, w.get(0).tokenIndices());      // hel, lo</w>
        assertArrayEquals(new int[]{3}, w.get(1).tokenIndices());
        assertArrayEquals(new int[]{4}, w.get(2).tokenIndices());
        assertEquals("red", e.text().substring(w.get(2).start(), w.get(2).end()));
        assertEquals(7, w.get(2).start());
        for (CLIPTokenizer.WordSpan s : w) assertEquals(s.word(), e.text().substring(s.start(), s.end()));
    }

    @Test void phraseLookupFindsWholeWords() {
        CLIPTokenizer t = tiny(CLIPTokenizer.Options.sd1());
        CLIPTokenizer.Encoding e = t.encode("a blue car next to a red car, hello");
        assertArrayEquals(new int[]{2, 3}, t.tokenIndicesOf("blue car", e));
        // "next" has no merges: n, e, x, t</w> at 4..7; "to" at 8, 9; "a" at 10
        assertArrayEquals(new int[]{11, 12}, t.tokenIndicesOf("RED  car", e));    // cleaned like the prompt
        assertArrayEquals(new int[]{14, 15}, t.tokenIndicesOf("hello", e));        // after "," at 13
        assertArrayEquals(new int[]{4, 5, 6, 7, 8, 9}, t.tokenIndicesOf("next to", e));
        assertThrows(IllegalArgumentException.class, () -> t.tokenIndicesOf("re", e));
        assertThrows(IllegalArgumentException.class, () -> t.tokenIndicesOf("green car", e));
        assertThrows(IllegalArgumentException.class, () -> t.tokenIndicesOf("  ", e));
    }

    @Test void reproducesPublishedClipIdsOnAVocabularySubset() {
        // Ids published from HF/OpenAI CLIP (openai/clip-vit-*, the SD 1.x tokenizer): the</w> 518, quick</w> 3712,
        // brown</w> 2866, fox</w> 3240, jumps</w> 18911, over</w> 962, lazy</w> 10753, dog</w> 1929, .</w> 269,
        // a</w> 320, photo</w> 1125, of</w> 539, cat</w> 2368, painting</w> 3086. Single characters come from the table.
        Map<String, Integer> ids = Map.ofEntries(Map.entry("the</w>", 518), Map.entry("quick</w>", 3712),
                Map.entry("brown</w>", 2866), Map.entry("fox</w>", 3240), Map.entry("jumps</w>", 18911),
                Map.entry("over</w>", 962), Map.entry("lazy</w>", 10753), Map.entry("dog</w>", 1929),
                Map.entry("photo</w>", 1125), Map.entry("of</w>", 539), Map.entry("cat</w>", 2368),
                Map.entry("painting</w>", 3086));
        CLIPTokenizer t = new CLIPTokenizer(baseVocab(ids), chainMerges("the", "quick", "brown", "fox", "jumps", "over",
                "lazy", "dog", "photo", "of", "cat", "painting"), CLIPTokenizer.Options.sd1());
        assertArrayEquals(new int[]{BOS, 518, 3712, 2866, 3240, 18911, 962, 518, 10753, 1929, 269, EOS, EOS},
                Arrays.copyOf(t.encode("The quick brown fox jumps over the lazy dog.").ids(), 13));
        assertArrayEquals(new int[]{BOS, 320, 1125, 539, 320, 2368, EOS, EOS},
                Arrays.copyOf(t.encode("a photo of a cat").ids(), 8));
        assertArrayEquals(new int[]{BOS, 320, 3086, 539, 320, 2368, EOS},
                Arrays.copyOf(t.encode("a painting of a cat").ids(), 7));
    }

    @Test void loadsFolderWithConfigOverrides(@TempDir Path dir) throws IOException {
        CLIPTokenizer.writeWordLevelVocab(List.of("red", "car"), dir);
        assertEquals(512 + 4 + 2, CLIPTokenizer.load(dir).vocabSize());   // r e, re d</w>, c a, ca r</w>
        CLIPTokenizer sd1 = CLIPTokenizer.load(dir);
        assertEquals(sd1.eosId(), sd1.padId());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 16, \"pad_token\": \"<|endoftext|>\"}");
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"pad_token\": {\"content\": \"!\", \"lstrip\": false}}");
        CLIPTokenizer sd2 = CLIPTokenizer.load(dir);
        assertEquals(16, sd2.maxLength());
        assertEquals(0, sd2.padId());
        assertEquals(16, sd2.encode("red car").ids().length);
    }

    @Test void badFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": \"x\"}");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\n");
        IOException e = assertThrows(IOException.class, () -> CLIPTokenizer.load(dir));
        assertTrue(e.getMessage().contains("vocab.json") && e.getMessage().contains("\"a\""), e.getMessage());

        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> CLIPTokenizer.load(dir));
        assertTrue(missing.getMessage().contains("<|startoftext|>"), missing.getMessage());

        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b c\n");
        IOException m = assertThrows(IOException.class, () -> CLIPTokenizer.readMerges(
                Files.newInputStream(dir.resolve("merges.txt")), "merges.txt"));
        assertTrue(m.getMessage().contains("merges.txt:2"), m.getMessage());

        Files.delete(dir.resolve("merges.txt"));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> CLIPTokenizer.load(dir));
    }

    @Test void mergesHeaderLineIsSkippedLikeHf() throws IOException {
        byte[] merges = "#version: 0.2\nr e\nre d</w>\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(2, CLIPTokenizer.readMerges(new ByteArrayInputStream(merges), "m").size());
        byte[] noHeader = "r e\nre d</w>\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(1, CLIPTokenizer.readMerges(new ByteArrayInputStream(noHeader), "m").size());
    }

    /** transformers 5's save_pretrained writes only tokenizer.json; its BPE model is vocab.json + merges.txt. */
    @Test void tokenizerJsonFolderEqualsVocabAndMergesFolder(@TempDir Path dir) throws IOException {
        Path clip = dir.resolve("clip"), single = dir.resolve("single"), old = dir.resolve("old"), added = dir.resolve("added");
        CLIPTokenizer.writeWordLevelVocab(List.of("red", "car", "blue"), clip);
        Map<String, Integer> vocab = CLIPTokenizer.readVocab(Files.newInputStream(clip.resolve("vocab.json")), "v");
        List<String[]> merges = CLIPTokenizer.readMerges(Files.newInputStream(clip.resolve("merges.txt")), "m");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Files.createDirectories(single);
        Files.createDirectories(old);
        Files.createDirectories(added);
        Files.writeString(single.resolve("tokenizer.json"), json.writeValueAsString(Map.of("model",
                Map.of("type", "BPE", "vocab", vocab, "merges", merges))));
        // tokenizers before 0.20 wrote each merge as one "a b" string
        Files.writeString(old.resolve("tokenizer.json"), json.writeValueAsString(Map.of("model",
                Map.of("type", "BPE", "vocab", vocab, "merges", merges.stream().map(m -> m[0] + " " + m[1]).toList()))));
        // special tokens only among added_tokens, not in the BPE vocab
        Map<String, Integer> plain = new HashMap<>(vocab);
        int bos = plain.remove("<|startoftext|>"), eos = plain.remove("<|endoftext|>");
        Files.writeString(added.resolve("tokenizer.json"), json.writeValueAsString(Map.of(
                "added_tokens", List.of(Map.of("id", bos, "content", "<|startoftext|>"), Map.of("id", eos, "content", "<|endoftext|>")),
                "model", Map.of("type", "BPE", "vocab", plain, "merges", merges))));
        CLIPTokenizer expected = CLIPTokenizer.load(clip);
        for (Path folder : List.of(single, old, added)) {
            assertTrue(CLIPTokenizer.isTokenizerFolder(folder));
            CLIPTokenizer t = CLIPTokenizer.load(folder);
            for (String prompt : List.of("red car", "a blue car, red!", "")) {
                assertArrayEquals(expected.encode(prompt).ids(), t.encode(prompt).ids(), prompt);
            }
        }

        Files.writeString(single.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        IOException notBpe = assertThrows(IOException.class, () -> CLIPTokenizer.load(single));
        assertTrue(notBpe.getMessage().contains("WordPiece") && notBpe.getMessage().contains("tokenizer.json"), notBpe.getMessage());
        Files.writeString(single.resolve("tokenizer.json"), json.writeValueAsString(Map.of("model",
                Map.of("type", "BPE", "vocab", vocab, "merges", List.of(List.of("r", "e", "d"))))));
        IOException badMerge = assertThrows(IOException.class, () -> CLIPTokenizer.load(single));
        assertTrue(badMerge.getMessage().contains("merge 0"), badMerge.getMessage());
        Files.delete(single.resolve("tokenizer.json"));
        assertFalse(CLIPTokenizer.isTokenizerFolder(single));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> CLIPTokenizer.load(single));
    }
}
