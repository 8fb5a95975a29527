package org.ldm4j.toyworld;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a ToyWorld dataset folder:
 * <pre>
 * root/vocabulary.txt                 caption words, one per line ({@link Vocabulary})
 * root/palette.json                   class index -> name, colour, object flag
 * root/&lt;split&gt;/index.jsonl           one JSON object per scene: seed, captions, objects, boxes, file paths
 * root/&lt;split&gt;/&lt;seed&gt;_image.png      and _seg.png (palette colours), _segidx.png (grey = class index),
 *                                     _depth.png, _sketch.png, _normals.png, _painting.png
 * </pre>
 * Paths in the index are relative to the split folder. Every file is written to a temp file and moved into place.
 */
public final class DatasetWriter {
    public static final String[] MAPS = {"image", "seg", "segidx", "depth", "sketch", "normals", "painting"};

    private static final ObjectMapper JSON = new ObjectMapper();

    private DatasetWriter() {}

    /** Writes {@code count} scenes of a split; returns the split folder. */
    public static Path write(Path root, DatasetSplit split, int count, SceneOptions options, PaintingOptions painting) throws IOException {
        if (count < 0 || count > DatasetSplit.MAX_SCENES) throw new IllegalArgumentException("scene count must be in 0.." + DatasetSplit.MAX_SCENES + ", got " + count);
        Path dir = root.resolve(split.folder());
        writeMetadata(root);
        writeRange(dir, split.firstSeed(), count, split, options, painting, s -> {});
        return dir;
    }

    /**
     * Writes scenes of seeds firstSeed .. firstSeed + count - 1 into one folder with its index.jsonl, vocabulary and
     * palette (no split), handing each scene to {@code sink} as well (e.g. for a contact sheet).
     */
    public static void writeFolder(Path dir, long firstSeed, int count, SceneOptions options, PaintingOptions painting,
                                   java.util.function.Consumer<Scene> sink) throws IOException {
        if (count < 0) throw new IllegalArgumentException("scene count must be >= 0, got " + count);
        writeMetadata(dir);
        writeRange(dir, firstSeed, count, null, options, painting, sink);
    }

    private static void writeMetadata(Path root) throws IOException {
        Files.createDirectories(root);
        Vocabulary.write(root.resolve("vocabulary.txt"));
        writeText(root.resolve("palette.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(palette()));
    }

    private static void writeRange(Path dir, long firstSeed, int count, DatasetSplit split, SceneOptions options,
                                   PaintingOptions painting, java.util.function.Consumer<Scene> sink) throws IOException {
        Files.createDirectories(dir);
        Path index = dir.resolve("index.jsonl");
        Path tmp = Files.createTempFile(dir, ".index", ".tmp");
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (int i = 0; i < count; i++) {
                Scene scene = ToyWorld.sample(firstSeed + i, options);
                Map<String, String> files = writeScene(dir, scene, painting);
                out.write(JSON.writeValueAsString(entry(scene, split, files)));
                out.write('\n');
                sink.accept(scene);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, index, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes the seven PNGs of one scene; returns map name -> file name (relative to dir). */
    public static Map<String, String> writeScene(Path dir, Scene scene, PaintingOptions painting) throws IOException {
        String stem = String.format("%07d", scene.seed());
        Map<String, String> files = new LinkedHashMap<>();
        java.awt.image.BufferedImage[] images = {scene.image(), scene.segColourImage(), scene.segIndexImage(), scene.depthImage(),
                scene.sketchImage(), scene.normalsImage(), scene.painting(scene.seed(), painting).image()};
        for (int m = 0; m < MAPS.length; m++) {
            String name = stem + "_" + MAPS[m] + ".png";
            AtomicPng.write(images[m], dir.resolve(name));
            files.put(MAPS[m], name);
        }
        return files;
    }

    static ObjectNode entry(Scene scene, DatasetSplit split, Map<String, String> files) {
        ObjectNode e = JSON.createObjectNode();
        e.put("seed", scene.seed());
        if (split != null) e.put("split", split.folder());
        e.put("width", scene.width());
        e.put("height", scene.height());
        e.put("time", scene.time().name().toLowerCase());
        e.put("ground", scene.ground().name().toLowerCase());
        e.put("water", scene.water().name().toLowerCase());
        ArrayNode captions = e.putArray("captions");
        scene.captions().forEach(captions::add);
        ArrayNode objects = e.putArray("objects");
        for (SceneObject o : scene.objects()) {
            ObjectNode n = objects.addObject();
            n.put("class", o.toyClass().label());
            n.put("class_index", o.toyClass().ordinal());
            n.put("instance", o.instanceId());
            ObjectNode attrs = n.putObject("attributes");
            new java.util.TreeMap<>(o.attributes()).forEach(attrs::put);
            ArrayNode box = n.putArray("box");
            box.add(o.box().x0()).add(o.box().y0()).add(o.box().x1()).add(o.box().y1());
            n.put("depth", o.depth());
            n.put("pixels", o.pixels());
        }
        ObjectNode f = e.putObject("files");
        files.forEach(f::put);
        return e;
    }

    static ArrayNode palette() {
        ArrayNode a = JSON.createArrayNode();
        for (ToyClass c : ToyClass.values()) {
            ObjectNode n = a.addObject();
            n.put("index", c.ordinal());
            n.put("name", c.label());
            n.put("object", c.isObject());
            n.putArray("rgb").add((c.colour() >> 16) & 255).add((c.colour() >> 8) & 255).add(c.colour() & 255);
        }
        return a;
    }

    private static void writeText(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
