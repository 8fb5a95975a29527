package org.ldm4j.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * PNG chunk reading and writing (PNG spec, ISO/IEC 15948, sections 5 and 11.3.4): length, 4-letter type, data,
 * CRC-32 over type and data. Only what text metadata needs: split a file into chunks with every length and CRC
 * checked, build {@code tEXt} / {@code iTXt} chunks, decode {@code tEXt} / {@code zTXt} / {@code iTXt}, and insert
 * chunks after {@code IHDR}.
 */
final class PngChunks {
    static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    /** Inflated text larger than this is refused (a zip bomb in a metadata chunk). */
    private static final int MAX_TEXT_BYTES = 64 << 20;

    private PngChunks() {}

    record Chunk(String type, byte[] data, long offset) {}

    static List<Chunk> parse(byte[] png, String source) throws MalformedPngException {
        if (png.length < SIGNATURE.length || !java.util.Arrays.equals(png, 0, 8, SIGNATURE, 0, 8)) {
            throw new MalformedPngException(source, 0, "missing PNG signature (not a PNG file)");
        }
        ByteBuffer buf = ByteBuffer.wrap(png);
        buf.position(8);
        List<Chunk> chunks = new ArrayList<>();
        while (true) {
            long offset = buf.position();
            if (buf.remaining() < 12) throw new MalformedPngException(source, offset, "file ends before IEND (truncated)");
            long length = Integer.toUnsignedLong(buf.getInt());
            byte[] typeBytes = new byte[4];
            buf.get(typeBytes);
            String type = new String(typeBytes, StandardCharsets.ISO_8859_1);
            if (!type.chars().allMatch(c -> (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                throw new MalformedPngException(source, offset, "invalid chunk type bytes " + java.util.Arrays.toString(typeBytes));
            }
            if (length > Integer.MAX_VALUE || length + 4 > buf.remaining()) {
                throw new MalformedPngException(source, offset, "chunk " + type + " declares " + length
                        + " bytes but only " + Math.max(0, buf.remaining() - 4) + " remain");
            }
            byte[] data = new byte[(int) length];
            buf.get(data);
            long stored = Integer.toUnsignedLong(buf.getInt());
            CRC32 crc = new CRC32();
            crc.update(typeBytes);
            crc.update(data);
            if (crc.getValue() != stored) throw new MalformedPngException(source, offset, "CRC mismatch in chunk " + type);
            chunks.add(new Chunk(type, data, offset));
            if (type.equals("IEND")) return chunks;
        }
    }

    static byte[] serialize(List<Chunk> chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(SIGNATURE);
        for (Chunk c : chunks) {
            byte[] type = c.type().getBytes(StandardCharsets.ISO_8859_1);
            out.writeBytes(ByteBuffer.allocate(4).putInt(c.data().length).array());
            out.writeBytes(type);
            out.writeBytes(c.data());
            CRC32 crc = new CRC32();
            crc.update(type);
            crc.update(c.data());
            out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        }
        return out.toByteArray();
    }

    /** {@code chunks} with {@code extra} placed right after IHDR, before any image data. */
    static List<Chunk> insertAfterHeader(List<Chunk> chunks, List<Chunk> extra) {
        List<Chunk> out = new ArrayList<>(chunks);
        out.addAll(1, extra);
        return out;
    }

    /**
     * A text chunk as PIL's {@code PngInfo.add_text} makes it (and so A1111): {@code tEXt} when the text is Latin-1,
     * otherwise uncompressed UTF-8 {@code iTXt}.
     */
    static Chunk text(String keyword, String text) {
        var latin1 = StandardCharsets.ISO_8859_1.newEncoder();
        if (latin1.canEncode(text) && text.indexOf('\0') < 0) {
            ByteArrayOutputStream d = new ByteArrayOutputStream();
            d.writeBytes(keyword(keyword));
            d.write(0);
            d.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
            return new Chunk("tEXt", d.toByteArray(), -1);
        }
        return itxt(keyword, text);
    }

    /** Uncompressed {@code iTXt}: keyword, 0, flag 0, method 0, empty language tag, 0, empty translation, 0, UTF-8. */
    static Chunk itxt(String keyword, String text) {
        ByteArrayOutputStream d = new ByteArrayOutputStream();
        d.writeBytes(keyword(keyword));
        d.writeBytes(new byte[]{0, 0, 0, 0, 0});
        d.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        return new Chunk("iTXt", d.toByteArray(), -1);
    }

    /** Keyword -> text of every tEXt, zTXt and iTXt chunk (later chunks win). */
    static Map<String, String> texts(List<Chunk> chunks, String source) throws MalformedPngException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Chunk c : chunks) {
            switch (c.type()) {
                case "tEXt": {
                    int z = nul(c, 0, source);
                    out.put(latin1(c.data(), 0, z), latin1(c.data(), z + 1, c.data().length));
                    break;
                }
                case "zTXt": {
                    int z = nul(c, 0, source);
                    if (z + 1 >= c.data().length || c.data()[z + 1] != 0) throw bad(c, source, "unknown compression method");
                    byte[] raw = inflate(c, z + 2, source);
                    out.put(latin1(c.data(), 0, z), new String(raw, StandardCharsets.ISO_8859_1));
                    break;
                }
                case "iTXt": {
                    int z = nul(c, 0, source);
                    if (z + 3 > c.data().length) throw bad(c, source, "header cut short");
                    boolean compressed = c.data()[z + 1] != 0;
                    if (compressed && c.data()[z + 2] != 0) throw bad(c, source, "unknown compression method");
                    int lang = nul(c, z + 3, source);
                    int translated = nul(c, lang + 1, source);
                    byte[] raw = compressed ? inflate(c, translated + 1, source)
                            : java.util.Arrays.copyOfRange(c.data(), translated + 1, c.data().length);
                    out.put(latin1(c.data(), 0, z), utf8(raw, c, source));
                    break;
                }
                default:
            }
        }
        return out;
    }

    private static byte[] keyword(String keyword) {
        byte[] k = keyword.getBytes(StandardCharsets.ISO_8859_1);
        if (k.length < 1 || k.length > 79 || keyword.indexOf('\0') >= 0) throw new IllegalArgumentException("bad PNG text keyword \"" + keyword + "\"");
        return k;
    }

    private static int nul(Chunk c, int from, String source) throws MalformedPngException {
        for (int i = from; i < c.data().length; i++) if (c.data()[i] == 0) return i;
        throw bad(c, source, "missing NUL separator");
    }

    private static byte[] inflate(Chunk c, int from, String source) throws MalformedPngException {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(c.data(), from, c.data().length - from);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inflater.finished()) {
                int n = inflater.inflate(buf);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) throw bad(c, source, "truncated compressed text");
                out.write(buf, 0, n);
                if (out.size() > MAX_TEXT_BYTES) throw bad(c, source, "compressed text inflates beyond " + MAX_TEXT_BYTES + " bytes");
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new MalformedPngException(source, c.offset(), "corrupt compressed text in " + c.type(), e);
        } finally {
            inflater.end();
        }
    }

    private static String utf8(byte[] raw, Chunk c, String source) throws MalformedPngException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedPngException(source, c.offset(), "iTXt text is not valid UTF-8", e);
        }
    }

    private static String latin1(byte[] b, int from, int to) { return new String(b, from, to - from, StandardCharsets.ISO_8859_1); }

    private static MalformedPngException bad(Chunk c, String source, String problem) {
        return new MalformedPngException(source, c.offset(), c.type() + " chunk: " + problem);
    }
}
