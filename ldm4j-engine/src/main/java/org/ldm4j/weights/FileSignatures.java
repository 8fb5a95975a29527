package org.ldm4j.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * What a file given as weights is, by its first bytes rather than its name: the two formats ldm4j reads (safetensors,
 * zip-format PyTorch checkpoints) are opened whatever their extension, and a file of another kind (an image, an
 * archive, a text or a Git LFS pointer) is named for what it is, so {@code convert --in picture.png} does not report
 * the PNG signature as an absurd safetensors header length.
 */
final class FileSignatures {
    private FileSignatures() {}

    /** The formats ldm4j reads, for messages. */
    static final String ACCEPTED = "ldm4j reads safetensors files (.safetensors) and zip-format PyTorch checkpoints (.ckpt, .pt, .pth, .bin)";

    private static final int HEAD = 512;

    /** Opens {@code file} by its content (see the class comment); a file too short or unrecognised, by its extension. */
    static WeightSource open(Path file) throws IOException {
        byte[] head = Files.isRegularFile(file) ? head(file) : null;
        if (head != null) {
            if (isSafetensors(head, Files.size(file))) return SafetensorsFile.open(file);
            if (isZip(head) || isPickle(head)) return TorchCheckpoint.open(file);   // TorchCheckpoint explains a legacy pickle
            String kind = otherKind(head);
            if (kind != null) throw new WeightFormatException(file + " is " + kind + ", not a checkpoint: " + ACCEPTED);
        }
        String name = file.getFileName().toString();
        if (WeightFormatException.isPickleName(name)) return TorchCheckpoint.open(file);
        if (head == null || name.toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors")) return SafetensorsFile.open(file);   // their own detailed errors
        throw new WeightFormatException(file + ": not a format ldm4j knows (it starts with bytes "
                + HexFormat.ofDelimiter(" ").formatHex(head, 0, Math.min(8, head.length)) + "): " + ACCEPTED);
    }

    private static byte[] head(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(HEAD);
        }
    }

    /** An 8-byte little-endian header length that fits the file, then the header's opening brace. */
    static boolean isSafetensors(byte[] head, long fileSize) {
        if (head.length < 10) return false;
        long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n >= 2 && n <= fileSize - 8 && head[8] == '{';
    }

    static boolean isZip(byte[] head) {
        return startsWith(head, 'P', 'K', 3, 4) || startsWith(head, 'P', 'K', 5, 6);
    }

    /** A bare pickle stream (protocol 2..5), what torch.save wrote before PyTorch 1.6. */
    static boolean isPickle(byte[] head) {
        return head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5;
    }

    /** What a file that holds no weights is ("a PNG image"), or null when its first bytes say nothing known. */
    static String otherKind(byte[] head) {
        if (startsWith(head, 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a)) return "a PNG image";
        if (startsWith(head, 0xff, 0xd8, 0xff)) return "a JPEG image";
        if (startsWith(head, 'G', 'I', 'F', '8')) return "a GIF image";
        if (startsWith(head, 'R', 'I', 'F', 'F') && head.length >= 12 && new String(head, 8, 4, StandardCharsets.US_ASCII).equals("WEBP")) {
            return "a WebP image";
        }
        if (startsWith(head, '%', 'P', 'D', 'F')) return "a PDF document";
        if (startsWith(head, 0x1f, 0x8b)) return "a gzip archive (unpack it first)";
        if (startsWith(head, 0xfd, '7', 'z', 'X', 'Z', 0)) return "an xz archive (unpack it first)";
        if (startsWith(head, 0x28, 0xb5, 0x2f, 0xfd)) return "a zstd archive (unpack it first)";
        if (startsWith(head, '7', 'z', 0xbc, 0xaf, 0x27, 0x1c)) return "a 7z archive (unpack it first)";
        if (startsWith(head, 'B', 'Z', 'h')) return "a bzip2 archive (unpack it first)";
        if (head.length >= 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) return "a tar archive (unpack it first)";
        if (startsWith(head, 0x89, 'H', 'D', 'F', 0x0d, 0x0a, 0x1a, 0x0a)) return "an HDF5 file (Keras or TensorFlow weights?)";
        if (startsWith(head, 'G', 'G', 'U', 'F')) return "a GGUF file (llama.cpp)";
        if (startsWith(head, 0x93, 'N', 'U', 'M', 'P', 'Y')) return "a NumPy array file";
        if (startsWith(head, 0x7f, 'E', 'L', 'F')) return "an executable";
        String text = text(head);
        if (text == null) return null;
        String t = text.stripLeading();
        if (t.startsWith("version https://git-lfs.github.com/spec/")) {
            return "a Git LFS pointer, not the file it points to (fetch the weights: git lfs pull)";
        }
        String lower = t.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("<!doctype html") || lower.startsWith("<html")) return "an HTML page (a download that got a web page?)";
        if (t.startsWith("{") || t.startsWith("[")) return "a JSON file";
        return "a text file";
    }

    /** The head as text when it is UTF-8 without control characters (a character cut at the end allowed), else null. */
    private static String text(byte[] head) {
        if (head.length == 0) return null;
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(head, 0, head.length < HEAD ? head.length : Math.max(0, head.length - 3))).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f) return null;
        }
        return s;
    }

    private static boolean startsWith(byte[] head, int... signature) {
        if (head.length < signature.length) return false;
        for (int i = 0; i < signature.length; i++) if ((head[i] & 0xff) != (signature[i] & 0xff)) return false;
        return true;
    }
}
