package org.ldm4j.models.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer, a port of transformers' {@code CLIPTokenizer} (the slow, Python one that diffusers'
 * Stable Diffusion pipelines use), reading the {@code tokenizer/} folder of a diffusers model: {@code vocab.json},
 * {@code merges.txt} and optionally {@code tokenizer_config.json} / {@code special_tokens_map.json}.
 *
 * <p>Pipeline: {@link CLIPTextCleaner} (whitespace collapse, lower case), the CLIP pre-tokenizer regex (digits are
 * single pieces), GPT-2 byte-to-unicode mapping, {@link ByteLevelBpe} merges, vocabulary lookup. {@link #encode}
 * then builds what {@code tokenizer(prompt, padding="max_length", max_length=77, truncation=True)} returns:
 * BOS, at most 75 tokens, EOS, then padding. Parity traps it avoids: multi-digit pieces, losing EOS on truncation,
 * and the pad id, which is {@code <|endoftext|>} (49407) for SD 1.x but {@code "!"} (0) for SD 2.x; the UNet
 * attends to all 77 positions, so the pad id changes images.
 */
public final class CLIPTokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(CLIPTokenizer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code 49152 - 256 - 2}: HF reads at most this many merges, whatever the file holds. */
    static final int MAX_MERGES = 48894;
    /** The pre-tokenizer of tokenization_clip.py; Java needs UNICODE_CHARACTER_CLASS for Python's Unicode {@code \s}. */
    static final Pattern PRE_TOKENIZER = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

    /** Special-token names and lengths; the ids always come from the vocabulary. */
    public record Options(String bosToken, String eosToken, String unkToken, String padToken, int maxLength,
                          boolean htmlUnescape) {
        public Options {
            if (maxLength < 2) throw new IllegalArgumentException("maxLength must be at least 2 (BOS + EOS), got " + maxLength);
        }
        /** SD 1.x: pads with {@code <|endoftext|>}, 77 positions. */
        public static Options sd1() { return new Options("<|startoftext|>", "<|endoftext|>", "<|endoftext|>", "<|endoftext|>", 77, false); }
        /** SD 2.x (OpenCLIP): pads with {@code "!"} (id 0). */
        public static Options sd2() { return sd1().withPadToken("!"); }
        public Options withPadToken(String pad) { return new Options(bosToken, eosToken, unkToken, pad, maxLength, htmlUnescape); }
        public Options withMaxLength(int n) { return new Options(bosToken, eosToken, unkToken, padToken, n, htmlUnescape); }
        public Options withHtmlUnescape(boolean on) { return new Options(bosToken, eosToken, unkToken, padToken, maxLength, on); }
    }

    /**
     * One pre-tokenizer piece of the cleaned prompt (a word, a digit, a punctuation run, a contraction suffix).
     * @param start, end char range in {@link Encoding#text()}
     * @param tokenIndices positions in {@link Encoding#ids()} (1-based after BOS); empty when truncation dropped it
     */
    public record WordSpan(String word, int start, int end, int[] tokenIndices) {
        @Override public String toString() { return word + "[" + start + "," + end + ")" + Arrays.toString(tokenIndices); }
    }

    /**
     * The encoded prompt.
     * @param text the cleaned prompt that {@link WordSpan} ranges refer to
     * @param ids BOS, tokens, EOS, padding: always {@code maxLength} long
     * @param attentionMask 1 for BOS, tokens and EOS, 0 for padding
     * @param tokenCount prompt tokens kept, BOS and EOS excluded (the EOS sits at {@code tokenCount + 1})
     * @param droppedText the cleaned text from the first (partly) dropped word on; empty when not truncated
     */
    public record Encoding(String text, int[] ids, int[] attentionMask, int tokenCount, List<WordSpan> words,
                           boolean truncated, String droppedText) {
        public int eosIndex() { return tokenCount + 1; }
        public long[] idsAsLongs() { return Arrays.stream(ids).asLongStream().toArray(); }
    }

    private final Map<String, Integer> vocab;
    private final Map<Integer, String> decoder = new HashMap<>();
    private final ByteLevelBpe bpe;
    private final Options options;
    private final int bosId, eosId, unkId, padId;

    public CLIPTokenizer(Map<String, Integer> vocab, List<String[]> merges, Options options) {
        this.vocab = Map.copyOf(vocab);
        this.options = options;
        this.bpe = new ByteLevelBpe(merges);
        vocab.forEach((token, id) -> decoder.putIfAbsent(id, token));
        this.bosId = requireId(options.bosToken(), "BOS");
        this.eosId = requireId(options.eosToken(), "EOS");
        this.unkId = requireId(options.unkToken(), "unknown");
        this.padId = requireId(options.padToken(), "pad");
        bpe.pin(options.bosToken());
        bpe.pin(options.eosToken());
    }

    /**
     * Loads a tokenizer folder: CLIP's {@code vocab.json} + {@code merges.txt} (what the SD repositories ship), or the
     * {@code tokenizers} library's single {@code tokenizer.json} (its BPE model's vocab and merges; what transformers 5
     * writes with {@code save_pretrained}). {@code tokenizer_config.json} and {@code special_tokens_map.json} (the
     * latter wins, as in HF) may set {@code bos_token}, {@code eos_token}, {@code unk_token}, {@code pad_token} and
     * {@code model_max_length}; anything they do not set comes from {@code defaults}.
     */
    public static CLIPTokenizer load(Path folder, Options defaults) throws IOException {
        Path vocabFile = folder.resolve("vocab.json"), mergesFile = folder.resolve("merges.txt");
        Path single = folder.resolve(TOKENIZER_JSON);
        boolean clipFiles = Files.isRegularFile(vocabFile) && Files.isRegularFile(mergesFile);
        if (!clipFiles && !Files.isRegularFile(single)) {
            Path missing = Files.isRegularFile(vocabFile) ? mergesFile : vocabFile;
            throw new NoSuchFileException(missing.toString(), null,
                    "CLIP tokenizer file missing (a folder needs vocab.json and merges.txt, or tokenizer.json)");
        }
        Options options = defaults;
        for (String name : List.of("tokenizer_config.json", "special_tokens_map.json")) {
            Path p = folder.resolve(name);
            if (Files.isRegularFile(p)) options = applyConfig(options, readJson(p), p.toString());
        }
        if (!clipFiles) return fromTokenizerJson(readJson(single), options, single.toString());
        try (InputStream v = Files.newInputStream(vocabFile); InputStream m = Files.newInputStream(mergesFile)) {
            return new CLIPTokenizer(readVocab(v, vocabFile.toString()), readMerges(m, mergesFile.toString()), options);
        }
    }

    static final String TOKENIZER_JSON = "tokenizer.json";

    /** Whether {@code folder} holds a tokenizer {@link #load(Path, Options)} reads. */
    public static boolean isTokenizerFolder(Path folder) {
        return (Files.isRegularFile(folder.resolve("vocab.json")) && Files.isRegularFile(folder.resolve("merges.txt")))
                || Files.isRegularFile(folder.resolve(TOKENIZER_JSON));
    }

    /**
     * A {@code tokenizer.json}'s BPE model: {@code model.vocab} is vocab.json (plus any {@code added_tokens} it lacks),
     * {@code model.merges} is merges.txt (pairs, as current versions write them, or "a b" strings, as older ones did).
     * Its normalizer, pre-tokenizer and post-processor are CLIP's (NFC, whitespace collapse, lower case; CLIP's split
     * pattern; BOS ... EOS), which this class implements.
     */
    static CLIPTokenizer fromTokenizerJson(JsonNode root, Options options, String source) throws IOException {
        JsonNode model = root == null ? null : root.get("model");
        if (model == null || !model.isObject()) throw new IOException(source + ": no \"model\" object");
        String type = model.path("type").asText("");
        if (!type.equals("BPE")) throw new IOException(source + ": model type \"" + type + "\" is not BPE (CLIP's tokenizer)");
        Map<String, Integer> vocab = vocabOf(model.get("vocab"), source + " model.vocab");
        for (JsonNode added : root.path("added_tokens")) {
            if (added.path("content").isTextual() && added.path("id").canConvertToInt()) {
                vocab.putIfAbsent(added.get("content").asText(), added.get("id").asInt());
            }
        }
        JsonNode mergeList = model.get("merges");
        if (mergeList == null || !mergeList.isArray()) throw new IOException(source + ": model.merges is not a list");
        List<String[]> merges = new ArrayList<>(mergeList.size());
        for (JsonNode m : mergeList) {
            if (merges.size() == MAX_MERGES) break;   // as merges.txt: HF reads no more
            String[] pair = m.isArray() && m.size() == 2 ? new String[]{m.get(0).asText(), m.get(1).asText()}
                    : m.isTextual() ? m.asText().strip().split(" ") : null;
            if (pair == null || pair.length != 2) {
                throw new IOException(source + ": merge " + merges.size() + " is not a pair of symbols: " + m);
            }
            merges.add(pair);
        }
        return new CLIPTokenizer(vocab, merges, options);
    }

    /** Loads a folder with SD 1.x defaults (what an SD 2.x folder's config overrides). */
    public static CLIPTokenizer load(Path folder) throws IOException { return load(folder, Options.sd1()); }

    /** Loads from streams; {@code source} names them in error messages. */
    public static CLIPTokenizer load(InputStream vocabJson, InputStream mergesTxt, Options options, String source) throws IOException {
        return new CLIPTokenizer(readVocab(vocabJson, source + "/vocab.json"), readMerges(mergesTxt, source + "/merges.txt"), options);
    }

    public Options options() { return options; }
    public int bosId() { return bosId; }
    public int eosId() { return eosId; }
    public int padId() { return padId; }
    public int maxLength() { return options.maxLength(); }
    public int vocabSize() { return vocab.size(); }

    /** Cleans the text as {@link #encode} does; {@link WordSpan} ranges index into this string. */
    public String clean(String prompt) { return CLIPTextCleaner.clean(prompt, options.htmlUnescape()); }

    /** BPE tokens of a prompt, without BOS/EOS and without truncation (HF's {@code tokenize}). */
    public List<String> tokenize(String prompt) {
        List<String> out = new ArrayList<>();
        Matcher m = PRE_TOKENIZER.matcher(clean(prompt));
        while (m.find()) out.addAll(bpe.encode(ByteLevelBpe.toByteUnicode(m.group())));
        return out;
    }

    /**
     * Encodes a prompt to exactly {@code maxLength} ids. Overlong prompts keep BOS, the first {@code maxLength-2}
     * tokens and EOS; the cut is reported in the result and logged, never silent. An empty prompt is valid: it is
     * the unconditional prompt of classifier-free guidance (BOS, EOS, padding).
     */
    public Encoding encode(String prompt) {
        String text = clean(prompt);
        int capacity = options.maxLength() - 2;
        int[] ids = new int[options.maxLength()];
        List<WordSpan> words = new ArrayList<>();
        int count = 0, dropFrom = -1;
        Matcher m = PRE_TOKENIZER.matcher(text);
        while (m.find()) {
            List<String> tokens = bpe.encode(ByteLevelBpe.toByteUnicode(m.group()));
            int keep = Math.max(0, Math.min(tokens.size(), capacity - count));
            int[] positions = new int[keep];
            for (int i = 0; i < keep; i++) {
                positions[i] = 1 + count;
                ids[1 + count++] = vocab.getOrDefault(tokens.get(i), unkId);
            }
            if (keep < tokens.size() && dropFrom < 0) dropFrom = m.start();
            words.add(new WordSpan(m.group(), m.start(), m.end(), positions));
        }
        ids[0] = bosId;
        ids[count + 1] = eosId;
        Arrays.fill(ids, count + 2, ids.length, padId);
        int[] mask = new int[ids.length];
        Arrays.fill(mask, 0, count + 2, 1);
        String dropped = dropFrom < 0 ? "" : text.substring(dropFrom);
        if (dropFrom >= 0) {
            LOG.warn("prompt longer than {} CLIP tokens, truncated; dropped: \"{}\"", capacity, dropped);
        }
        return new Encoding(text, ids, mask, count, List.copyOf(words), dropFrom >= 0, dropped);
    }

    /**
     * The positions in {@code encoding.ids()} of the tokens of {@code phrase}, which must occur in the prompt as
     * whole pre-tokenizer pieces (first occurrence; "red car" matches "a red car", "re" does not match "red").
     * Region-control methods use this to address cross-attention maps.
     */
    public int[] tokenIndicesOf(String phrase, Encoding encoding) {
        List<String> pieces = new ArrayList<>();
        Matcher m = PRE_TOKENIZER.matcher(clean(phrase));
        while (m.find()) pieces.add(m.group());
        if (pieces.isEmpty()) throw new IllegalArgumentException("phrase \"" + phrase + "\" has no tokens");
        List<WordSpan> words = encoding.words();
        for (int s = 0; s + pieces.size() <= words.size(); s++) {
            boolean match = true;
            for (int k = 0; k < pieces.size() && match; k++) match = words.get(s + k).word().equals(pieces.get(k));
            if (!match) continue;
            List<WordSpan> hit = words.subList(s, s + pieces.size());
            int[] indices = hit.stream().flatMapToInt(w -> Arrays.stream(w.tokenIndices())).toArray();
            int expected = hit.stream().mapToInt(w -> bpe.encode(ByteLevelBpe.toByteUnicode(w.word())).size()).sum();
            if (indices.length < expected) {
                throw new IllegalArgumentException("phrase \"" + phrase + "\" was cut off by truncation to "
                        + (options.maxLength() - 2) + " tokens in prompt \"" + encoding.text() + "\"");
            }
            return indices;
        }
        throw new IllegalArgumentException("phrase \"" + phrase + "\" does not occur in prompt \"" + encoding.text() + "\"");
    }

    /** Token ids back to text, from after BOS up to the first EOS (so "!" padding of SD 2.x is not text). */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id == bosId) continue;
            if (id == eosId) break;
            String token = decoder.get(id);
            if (token != null) sb.append(token);
        }
        return ByteLevelBpe.fromByteUnicode(sb.toString()).replace(ByteLevelBpe.END_OF_WORD, " ").strip();
    }

    /**
     * Writes a {@code vocab.json} + {@code merges.txt} pair in CLIP's format whose BPE turns each of {@code words}
     * into exactly one token; other text still tokenizes, into bytes. See {@link WordLevelVocab}.
     */
    public static void writeWordLevelVocab(List<String> words, Path dir) throws IOException {
        WordLevelVocab.write(words, dir);
    }

    private int requireId(String token, String role) {
        Integer id = vocab.get(token);
        if (id == null) throw new IllegalArgumentException(role + " token \"" + token + "\" is not in the vocabulary");
        return id;
    }

    static Map<String, Integer> readVocab(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(in);
        } catch (IOException e) {
            throw new IOException(source + ": not valid JSON: " + e.getMessage(), e);
        }
        return vocabOf(root, source);
    }

    private static Map<String, Integer> vocabOf(JsonNode root, String source) throws IOException {
        if (root == null || !root.isObject()) throw new IOException(source + ": expected a JSON object token -> id");
        Map<String, Integer> vocab = new HashMap<>(root.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber() || e.getValue().intValue() < 0) {
                throw new IOException(source + ": id of token \"" + e.getKey() + "\" is not a non-negative integer: " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().intValue());
        }
        return vocab;
    }

    /** HF skips the first line unconditionally (the {@code #version} header) and reads at most {@link #MAX_MERGES}. */
    static List<String[]> readMerges(InputStream in, String source) throws IOException {
        List<String[]> merges = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String header = r.readLine();
            if (header != null && !header.startsWith("#")) {
                LOG.warn("{}: first line \"{}\" is not a #version header; it is skipped as HF does", source, header);
            }
            String line;
            int lineNo = 1;
            while ((line = r.readLine()) != null && merges.size() < MAX_MERGES) {
                lineNo++;
                String trimmed = line.strip();
                if (trimmed.isEmpty()) continue;
                String[] pair = trimmed.split("\\s+");
                if (pair.length != 2) throw new IOException(source + ":" + lineNo + ": expected two symbols, got \"" + line + "\"");
                merges.add(pair);
            }
        }
        return merges;
    }

    private static JsonNode readJson(Path p) throws IOException {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new IOException(p + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static Options applyConfig(Options o, JsonNode cfg, String source) throws IOException {
        if (cfg == null || !cfg.isObject()) throw new IOException(source + ": expected a JSON object");
        String bos = tokenName(cfg, "bos_token", o.bosToken()), eos = tokenName(cfg, "eos_token", o.eosToken());
        String unk = tokenName(cfg, "unk_token", o.unkToken()), pad = tokenName(cfg, "pad_token", o.padToken());
        int maxLength = o.maxLength();
        JsonNode len = cfg.get("model_max_length");
        if (len != null && len.isNumber()) {
            // HF writes 1e30 ("no limit") into some configs; CLIP's position table has 77 rows regardless.
            if (len.asDouble() >= 2 && len.asDouble() <= 4096) maxLength = len.asInt();
            else LOG.warn("{}: model_max_length {} ignored, using {}", source, len.asText(), maxLength);
        }
        return new Options(bos, eos, unk, pad, maxLength, o.htmlUnescape());
    }

    /** A token is either a string or an AddedToken object {@code {"content": ...}}. */
    private static String tokenName(JsonNode cfg, String key, String fallback) throws IOException {
        JsonNode n = cfg.get(key);
        if (n == null || n.isNull()) return fallback;
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").asText();
        throw new IOException("tokenizer config key " + key + " has unexpected value " + n);
    }
}
