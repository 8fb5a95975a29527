package org.ldm4j.models.clip;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.ldm4j.image.AtomicFiles;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * Builds a small CLIP-format vocabulary in which every word of a closed domain (ToyWorld's scene language) is one
 * token, so the unchanged {@link CLIPTokenizer} serves a tiny text encoder.
 *
 * <p>Layout follows OpenAI's {@code simple_tokenizer.py}: the 256 byte characters, the same with {@code </w>},
 * one entry per merge result in merge order, then {@code <|startoftext|>} and {@code <|endoftext|>} last. The single
 * characters keep any other text encodable (as bytes).
 *
 * <p>Merges are found by simulation rather than by a fixed left-to-right chain: a chain for "ab" ({@code a b</w>})
 * would fire inside "cab" before {@code c a}, leaving two tokens. For each word we run BPE with the merges so far
 * and, while it yields more than one symbol, append a merge of its first two symbols. An appended merge has the
 * highest rank, and every earlier word already reduced to one symbol using only lower ranks, so earlier words keep
 * their single token.
 */
final class WordLevelVocab {
    private WordLevelVocab() {}

    static void write(List<String> words, Path dir) throws IOException {
        Map<String, Integer> ranks = new HashMap<>();
        List<String[]> merges = new ArrayList<>();
        for (String word : new LinkedHashSet<>(words)) {
            validate(word);
            List<String> symbols = ByteLevelBpe.merge(ByteLevelBpe.initialSymbols(ByteLevelBpe.toByteUnicode(word)), ranks);
            while (symbols.size() > 1) {
                String[] pair = {symbols.get(0), symbols.get(1)};
                ranks.put(ByteLevelBpe.pairKey(pair[0], pair[1]), merges.size());
                merges.add(pair);
                symbols = ByteLevelBpe.merge(symbols, ranks);
            }
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String c : ByteLevelBpe.byteAlphabet()) vocab.put(c, vocab.size());
        for (String c : ByteLevelBpe.byteAlphabet()) vocab.put(c + ByteLevelBpe.END_OF_WORD, vocab.size());
        for (String[] m : merges) vocab.putIfAbsent(m[0] + m[1], vocab.size());
        vocab.put("<|startoftext|>", vocab.size());
        vocab.put("<|endoftext|>", vocab.size());

        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(dir.resolve("vocab.json"), out -> json.writeValue(out, vocab));
        AtomicFiles.write(dir.resolve("merges.txt"), out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write("#version: 0.2\n");   // HF skips the first line whatever it says
            for (String[] m : merges) w.write(m[0] + " " + m[1] + "\n");
            w.flush();
        });
    }

    /** A word must survive cleaning unchanged and be a single pre-tokenizer piece, or it could never be one token. */
    private static void validate(String word) {
        if (word == null || word.isEmpty()) throw new IllegalArgumentException("empty word in word-level vocabulary");
        if (!CLIPTextCleaner.clean(word).equals(word)) {
            throw new IllegalArgumentException("word \"" + word + "\" changes under CLIP cleaning (upper case or whitespace?)");
        }
        Matcher m = CLIPTokenizer.PRE_TOKENIZER.matcher(word);
        if (!m.find() || m.start() != 0 || m.end() != word.length()) {
            throw new IllegalArgumentException("word \"" + word + "\" is split by the CLIP pre-tokenizer (digits are single "
                    + "pieces, letters and punctuation separate); it cannot be one token");
        }
        if (word.startsWith("<|")) throw new IllegalArgumentException("word \"" + word + "\" collides with a special token");
    }
}
