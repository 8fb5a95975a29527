package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.ldm4j.image.Infotext;
import org.ldm4j.image.PngParameters;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.schedulers.Schedulers;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The folder of results: PNGs named {@code <date>-<time>-<job>-<k>.png} with the request embedded (the same
 * {@code parameters} + {@code ldm4j} chunks the CLI writes). It is the only folder the server serves files from,
 * and only plain files directly inside it whose names are simple.
 */
public final class Gallery {
    public static final String URL_PREFIX = "/gallery/";
    /** No separators, no leading dot (hides the atomic writer's temporaries and refuses "..") . */
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,200}\\.png");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private static final Pattern RESULT_NAME = Pattern.compile("(.*)-(\\d{1,6})\\.png");
    /** Jobs newest first, a job's own files in their order (k = 0 first: an edit's best sample leads). */
    private static final Comparator<Path> NEWEST_JOB_FIRST = Comparator
            .comparing((Path p) -> RESULT_NAME.matcher(p.getFileName().toString()).replaceFirst("$1"), Comparator.reverseOrder())
            .thenComparingInt(p -> {
                java.util.regex.Matcher m = RESULT_NAME.matcher(p.getFileName().toString());
                return m.matches() ? Integer.parseInt(m.group(2)) : 0;
            });

    private final Path dir;

    public Gallery(Path dir) throws IOException {
        Files.createDirectories(dir);
        this.dir = dir.toRealPath();
    }

    public Path dir() { return dir; }

    /**
     * One file to write: the pixels, the request of this image alone (for the A1111 infotext) and what the
     * {@code ldm4j} chunk records (the request itself, or a method's record with its settings, as the CLI writes).
     */
    public record Picture(BufferedImage image, GenerationRequest request, Object embedded) {}

    /**
     * Writes one PNG per picture, named {@code <date>-<time>-<job>-<k>.png} in the given order, each atomically; if
     * any write fails, the ones already written are deleted, so a job leaves all its files or none.
     * @return the file names
     */
    public List<String> write(String jobId, List<Picture> pictures, String samplerLabel) throws IOException {
        String base = LocalDateTime.now().format(STAMP) + "-" + jobId;
        List<Path> written = new ArrayList<>();
        try {
            for (int k = 0; k < pictures.size(); k++) {
                Picture p = pictures.get(k);
                Path file = dir.resolve(base + "-" + k + ".png");
                PngParameters.write(file, p.image(), infotext(p.request(), samplerLabel), p.embedded());
                written.add(file);
            }
        } catch (IOException | RuntimeException e) {
            for (Path p : written) Files.deleteIfExists(p);
            throw e;
        }
        List<String> names = new ArrayList<>();
        for (Path p : written) names.add(p.getFileName().toString());
        return names;
    }

    /** The A1111 infotext the CLI writes too, so other SD tools read the settings. */
    static Infotext infotext(GenerationRequest r, String samplerLabel) {
        return Infotext.of(r.prompt(), r.negativePrompt(), r.steps(), samplerLabel, r.guidanceScale(), r.seed(),
                r.width(), r.height(), r.model());
    }

    static String samplerLabel(GenerationRequest r, ModelInfo model) {
        return Schedulers.fromAlias(r.scheduler() != null ? r.scheduler() : model.defaultScheduler()).a1111Label();
    }

    /** The file named, if it is a result in this folder; anything else (paths, "..", links, temporaries) is 404. */
    public Path resolve(String name) {
        if (name == null || !SAFE_NAME.matcher(name).matches()) throw ApiError.notFound("no such gallery file");
        Path p = dir.resolve(name).normalize();
        if (!dir.equals(p.getParent()) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw ApiError.notFound("no such gallery file: " + name);
        }
        return p;
    }

    /** The newest {@code limit} results, newest first, each with its embedded request (null if it has none). */
    public List<Map<String, Object>> list(int limit) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.png")) {
            for (Path p : ds) {
                if (SAFE_NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    files.add(p);
                }
            }
        }
        files.sort(NEWEST_JOB_FIRST);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Path p : files.subList(0, Math.min(limit, files.size()))) {
            Map<String, Object> e = new LinkedHashMap<>();
            String name = p.getFileName().toString();
            e.put("file", name);
            e.put("url", URL_PREFIX + name);
            JsonNode request = null;
            try {
                request = PngParameters.read(p).request();
            } catch (IOException unreadable) {
                // a foreign or damaged PNG in the folder: list it without parameters
            }
            e.put("parameters", request);
            out.add(e);
        }
        return out;
    }
}
