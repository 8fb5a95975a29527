package org.ldm4j.models.clip;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level byte-pair encoding as in GPT-2 and CLIP: the GPT-2 byte-to-unicode table, and merging of symbol pairs
 * by merge rank, with {@code </w>} appended to the last symbol of each word (CLIP's end-of-word marker).
 *
 * <p>Ports {@code bytes_to_unicode}, {@code get_pairs} and {@code CLIPTokenizer.bpe} of transformers'
 * {@code models/clip/tokenization_clip.py}. Thread-safe: the cache is concurrent, the ranks immutable.
 */
public final class ByteLevelBpe {
    /** CLIP marks the last symbol of a word with this suffix; a word's final token therefore differs from a prefix. */
    public static final String END_OF_WORD = "</w>";

    private static final char[] BYTE_TO_UNICODE = buildByteToUnicode();
    private static final Map<Character, Integer> UNICODE_TO_BYTE = invert(BYTE_TO_UNICODE);

    private final Map<String, Integer> ranks;                       // "first second" -> rank (0 = merged first)
    private final Map<String, List<String>> cache = new ConcurrentHashMap<>();

    /** @param merges symbol pairs in rank order, each {@code {first, second}} */
    public ByteLevelBpe(List<String[]> merges) {
        Map<String, Integer> r = new HashMap<>(merges.size() * 2);
        for (String[] m : merges) r.putIfAbsent(pairKey(m[0], m[1]), r.size());
        this.ranks = Collections.unmodifiableMap(r);
    }

    /** Number of distinct merges. */
    public int mergeCount() { return ranks.size(); }

    /**
     * The BPE symbols of one pre-tokenized piece, already mapped through {@link #toByteUnicode}. Special tokens
     * ({@code <|startoftext|>}, {@code <|endoftext|>}) are returned whole, without {@code </w>}, as HF's cache does.
     */
    public List<String> encode(String piece) {
        if (piece.isEmpty()) return List.of();
        return cache.computeIfAbsent(piece, p -> Collections.unmodifiableList(merge(initialSymbols(p), ranks)));
    }

    /** Seeds the cache (HF seeds it with the two special tokens so they are never split). */
    void pin(String token) { cache.put(token, List.of(token)); }

    /** One symbol per character, the last one with {@code </w>}. */
    static List<String> initialSymbols(String piece) {
        List<String> word = new ArrayList<>(piece.length());
        for (int i = 0; i < piece.length() - 1; i++) word.add(String.valueOf(piece.charAt(i)));
        word.add(piece.charAt(piece.length() - 1) + END_OF_WORD);
        return word;
    }

    /**
     * Repeatedly merges the lowest-ranked adjacent pair until no pair has a rank, merging all non-overlapping
     * occurrences left to right each round, exactly like {@code CLIPTokenizer.bpe}.
     */
    static List<String> merge(List<String> symbols, Map<String, Integer> ranks) {
        List<String> word = new ArrayList<>(symbols);
        while (word.size() > 1) {
            String first = null, second = null;
            int best = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = ranks.get(pairKey(word.get(i), word.get(i + 1)));
                if (r != null && r < best) { best = r; first = word.get(i); second = word.get(i + 1); }
            }
            if (first == null) break;
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); ) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(word.get(i++));
                }
            }
            word = merged;
        }
        return word;
    }

    static String pairKey(String first, String second) { return first + ' ' + second; }

    /** Maps the UTF-8 bytes of {@code text} to printable characters, one per byte (GPT-2's reversible table). */
    public static String toByteUnicode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_UNICODE[b & 0xFF]);
        return sb.toString();
    }

    /** Inverse of {@link #toByteUnicode}; characters outside the table are skipped, invalid UTF-8 becomes U+FFFD. */
    public static String fromByteUnicode(String symbols) {
        byte[] bytes = new byte[symbols.length()];
        int n = 0;
        for (int i = 0; i < symbols.length(); i++) {
            Integer b = UNICODE_TO_BYTE.get(symbols.charAt(i));
            if (b != null) bytes[n++] = (byte) (int) b;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    /** The 256 byte characters in CLIP's vocabulary order (ids 0..255; ids 256..511 are the same with {@code </w>}). */
    public static List<String> byteAlphabet() {
        List<String> out = new ArrayList<>(256);
        for (int b : bytesInVocabOrder()) out.add(String.valueOf(BYTE_TO_UNICODE[b]));
        return out;
    }

    /** Printable Latin-1 bytes keep their own code point; the other 68 bytes are moved to 256+n. */
    private static char[] buildByteToUnicode() {
        char[] table = new char[256];
        int n = 0;
        for (int b : bytesInVocabOrder()) table[b] = isPrintable(b) ? (char) b : (char) (256 + n++);
        return table;
    }

    /** {@code bs} of {@code bytes_to_unicode()}: printable ranges first, then the rest in byte order. */
    private static int[] bytesInVocabOrder() {
        int[] order = new int[256];
        int k = 0;
        for (int b = 0; b < 256; b++) if (isPrintable(b)) order[k++] = b;
        for (int b = 0; b < 256; b++) if (!isPrintable(b)) order[k++] = b;
        return order;
    }

    private static boolean isPrintable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    private static Map<Character, Integer> invert(char[] table) {
        Map<Character, Integer> m = new HashMap<>();
        for (int b = 0; b < table.length; b++) m.put(table[b], b);
        return m;
    }
}
