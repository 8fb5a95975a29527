package org.ldm4j.models.clip;

import java.text.Normalizer;
import java.util.Locale;

/**
 * The text normalisation CLIPTokenizer applies before pre-tokenization, as transformers does when ftfy is not
 * installed: {@code BasicTokenizer(strip_accents=False, do_split_on_punc=False)}, i.e.
 * <ol>
 *   <li>drop NUL, U+FFFD and control/format characters (Unicode category C*, except tab, CR, LF);</li>
 *   <li>turn every whitespace character into a space;</li>
 *   <li>put spaces around CJK ideographs (so each becomes its own word);</li>
 *   <li>NFC-normalise, split on whitespace, lower-case each word, join with single spaces.</li>
 * </ol>
 * With ftfy installed HF instead runs {@code whitespace_clean(ftfy.fix_text(text)).lower()}; for ordinary prompts
 * both give the same string. The original OpenAI tokenizer additionally HTML-unescapes twice; that is optional here.
 */
public final class CLIPTextCleaner {
    private CLIPTextCleaner() {}

    /** Cleans like HF's slow CLIPTokenizer without ftfy. */
    public static String clean(String text) { return clean(text, false); }

    /** @param htmlUnescape first unescape HTML entities twice, as OpenAI's {@code basic_clean} does */
    public static String clean(String text, boolean htmlUnescape) {
        String t = htmlUnescape ? HtmlEntities.unescape(HtmlEntities.unescape(text)) : text;
        StringBuilder sb = new StringBuilder(t.length() + 8);
        t.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) return;
            if (isWhitespace(cp)) sb.append(' ');
            else if (isCjk(cp)) sb.append(' ').appendCodePoint(cp).append(' ');
            else sb.appendCodePoint(cp);
        });
        String normalized = Normalizer.normalize(sb, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(normalized.length());
        for (String word : normalized.split("[ \\u2028\\u2029]+")) {   // Python's str.split() on what is left
            if (word.isEmpty()) continue;
            if (out.length() > 0) out.append(' ');
            out.append(word.toLowerCase(Locale.ROOT));
        }
        return out.toString();
    }

    /** {@code _is_control}: category C* except the three whitespace controls. */
    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.PRIVATE_USE
                || type == Character.SURROGATE || type == Character.UNASSIGNED;
    }

    /** {@code _is_whitespace}: space, tab, LF, CR, or category Zs. */
    private static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** {@code _is_chinese_char}: the CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul). */
    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** A small HTML entity decoder: numeric references and the entities prompts actually contain. */
    static final class HtmlEntities {
        private HtmlEntities() {}

        static String unescape(String s) {
            if (s.indexOf('&') < 0) return s;
            StringBuilder out = new StringBuilder(s.length());
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                int semi = c == '&' ? s.indexOf(';', i) : -1;
                if (semi > i + 1 && semi - i <= 10) {
                    String decoded = decode(s.substring(i + 1, semi));
                    if (decoded != null) { out.append(decoded); i = semi + 1; continue; }
                }
                out.append(c);
                i++;
            }
            return out.toString();
        }

        private static String decode(String name) {
            try {
                if (name.startsWith("#x") || name.startsWith("#X")) return new String(Character.toChars(Integer.parseInt(name.substring(2), 16)));
                if (name.startsWith("#")) return new String(Character.toChars(Integer.parseInt(name.substring(1))));
            } catch (IllegalArgumentException e) {
                return null;
            }
            switch (name) {
                case "amp": return "&";
                case "lt": return "<";
                case "gt": return ">";
                case "quot": return "\"";
                case "apos": return "'";
                case "nbsp": return "\u00A0";
                default: return null;
            }
        }
    }
}
