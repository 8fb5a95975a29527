package org.ldm4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PNGs that remember how they were made, in two text chunks:
 * <ul>
 *   <li>{@code parameters}: the A1111 {@link Infotext}, so other SD tools show and reuse the settings. Written as
 *       {@code tEXt} when Latin-1 and as UTF-8 {@code iTXt} otherwise, as PIL (and so A1111) does;</li>
 *   <li>{@code ldm4j}: the full request as JSON in a UTF-8 {@code iTXt}, so ldm4j can replay it exactly.</li>
 * </ul>
 * The chunks go right after {@code IHDR}. Files are written atomically.
 */
public final class PngParameters {
    public static final String PARAMETERS_KEY = "parameters";
    public static final String REQUEST_KEY = "ldm4j";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PngParameters() {}

    /**
     * What {@link #read} found; {@code infotext} and {@code request} are null when their chunk is absent.
     * @param texts every text chunk by keyword
     */
    public record Contents(Infotext infotext, JsonNode request, Map<String, String> texts) {
        /** The parsed A1111 fields ("Prompt", "Negative prompt", "Steps", ...), empty without a parameters chunk. */
        public Map<String, String> fields() { return infotext == null ? Map.of() : infotext.fields(); }
    }

    /**
     * Writes {@code image} as a PNG with the given metadata, atomically.
     * @param infotext the A1111 parameters, or null for none
     * @param request any Jackson-serialisable object or a {@link JsonNode}, or null for none
     */
    public static void write(Path file, BufferedImage image, Infotext infotext, Object request) throws IOException {
        byte[] png = encode(image, infotext, request);
        AtomicFiles.write(file, png);
    }

    /** The PNG bytes {@link #write} would write. */
    public static byte[] encode(BufferedImage image, Infotext infotext, Object request) throws IOException {
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", plain)) throw new IOException("no PNG writer for image type " + image.getType());
        List<PngChunks.Chunk> extra = new ArrayList<>();
        if (infotext != null) extra.add(PngChunks.text(PARAMETERS_KEY, infotext.format()));
        if (request != null) {
            JsonNode node = request instanceof JsonNode ? (JsonNode) request : JSON.valueToTree(request);
            extra.add(PngChunks.itxt(REQUEST_KEY, JSON.writeValueAsString(node)));
        }
        List<PngChunks.Chunk> chunks = PngChunks.parse(plain.toByteArray(), "encoded image");
        return PngChunks.serialize(PngChunks.insertAfterHeader(chunks, extra));
    }

    /** Reads the metadata of a PNG; chunk structure and CRCs are checked, the image data is not decoded. */
    public static Contents read(Path file) throws IOException {
        return read(Files.readAllBytes(file), file.toString());
    }

    /** {@link #read(Path)} on bytes; {@code source} names them in errors. */
    public static Contents read(byte[] png, String source) throws IOException {
        Map<String, String> texts = PngChunks.texts(PngChunks.parse(png, source), source);
        String parameters = texts.get(PARAMETERS_KEY);
        String request = texts.get(REQUEST_KEY);
        JsonNode json = null;
        if (request != null) {
            try {
                json = JSON.readTree(request);
            } catch (IOException e) {
                throw new IOException(source + ": the " + REQUEST_KEY + " chunk is not valid JSON: " + e.getMessage(), e);
            }
        }
        return new Contents(parameters == null ? null : Infotext.parse(parameters), json, Map.copyOf(texts));
    }
}
