package org.ldm4j.models.clip;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.BeforeAll;
import org.ldm4j.reliability.FuzzContract;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link CLIPTokenizer#load(Path)} on a folder whose {@code vocab.json}, {@code merges.txt} and
 * {@code tokenizer_config.json} come from the input, then encodes and decodes a prompt with what loaded. Contract:
 * a malformed file is an IOException naming it; a vocabulary that lacks a special token is an
 * IllegalArgumentException naming the role (the constructor's documented check); a tokenizer that loads encodes
 * any prompt to exactly {@code maxLength} ids that are all in the vocabulary's id range. The same for a folder with
 * only a {@code tokenizer.json}.
 */
class CLIPTokenizerFuzzTest {
    private static Path folder, singleFileFolder;

    @BeforeAll static void setUp() throws IOException {
        folder = FuzzContract.scratchFolder("fuzz-tokenizer");
        folder.toFile().deleteOnExit();
        singleFileFolder = FuzzContract.scratchFolder("fuzz-tokenizer-json");
        singleFileFolder.toFile().deleteOnExit();
    }

    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"\"<|startoftext|>\"", "\"<|endoftext|>\"", "</w>", "#version: 0.2", "\"bos_token\"",
            "\"model_max_length\"", "\"pad_token\"", "\"content\""})
    void loadAndEncode(FuzzedDataProvider data) throws IOException {
        String vocab = data.consumeString(2000), config = data.consumeString(300), prompt = data.consumeString(200);
        String merges = data.consumeRemainingAsString();
        Files.writeString(folder.resolve("vocab.json"), vocab, StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("merges.txt"), merges, StandardCharsets.UTF_8);
        Path cfg = folder.resolve("tokenizer_config.json");
        if (config.isEmpty()) Files.deleteIfExists(cfg);
        else Files.writeString(cfg, config, StandardCharsets.UTF_8);
        FuzzContract.check("CLIPTokenizer", () -> {
            CLIPTokenizer t = CLIPTokenizer.load(folder);
            CLIPTokenizer.Encoding e = t.encode(prompt);
            assertEquals(t.maxLength(), e.ids().length);
            assertTrue(e.tokenCount() >= 0 && e.tokenCount() <= t.maxLength() - 2, "token count " + e.tokenCount());
            t.decode(e.ids());
        }, IOException.class, IllegalArgumentException.class);
    }

    /**
     * The same contract for a folder holding only a tokenizers {@code tokenizer.json} (what transformers 5 writes): the
     * input is the file (seeded with a small valid one, since the JSON parser gives the fuzzer no coverage to follow),
     * the prompts are fixed (the target above fuzzes them).
     */
    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"\"<|startoftext|>\"", "\"<|endoftext|>\"", "</w>", "\"model\"", "\"type\"", "\"BPE\"",
            "\"vocab\"", "\"merges\"", "\"added_tokens\"", "\"content\"", "\"id\""})
    void loadTokenizerJsonAndEncode(byte[] tokenizerJson) throws IOException {
        Files.write(singleFileFolder.resolve("tokenizer.json"), tokenizerJson);
        FuzzContract.check("CLIPTokenizer tokenizer.json", () -> {
            CLIPTokenizer t = CLIPTokenizer.load(singleFileFolder);
            for (String prompt : new String[]{"a red car", "Zz <|endoftext|> !! caf\u00e9", ""}) {
                CLIPTokenizer.Encoding e = t.encode(prompt);
                assertEquals(t.maxLength(), e.ids().length);
                t.decode(e.ids());
            }
        }, IOException.class, IllegalArgumentException.class);
    }
}
