package org.ldm4j.toyworld;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VocabularyAndDatasetTest {
    @Test
    void vocabularyIsSortedAndCoversEveryCaptionWord() throws Exception {
        List<String> words = Vocabulary.words();
        List<String> sorted = new ArrayList<>(new java.util.TreeSet<>(words));
        assertEquals(sorted, words, "sorted, no duplicates");
        java.util.Set<String> used = new java.util.HashSet<>();
        for (long seed = 0; seed < 3000; seed++) {
            for (String caption : ToyWorld.sample(seed, SceneOptions.square(16)).captions()) {
                for (String w : Vocabulary.words(caption)) {
                    assertTrue(Vocabulary.contains(w), "\"" + w + "\" of \"" + caption + "\" missing from the vocabulary");
                    used.add(w);
                }
            }
        }
        assertTrue(used.size() > 0.8 * words.size(), "captions use " + used.size() + " of " + words.size() + " words");
    }

    @Test
    void everyObjectsColourIsOneOfItsClasssCaptionColours() {
        java.util.Map<ToyClass, java.util.Set<String>> seen = new java.util.EnumMap<>(ToyClass.class);
        for (long seed = 0; seed < 1000; seed++) {
            for (SceneObject o : ToyWorld.sample(seed, SceneOptions.square(64)).objects()) {
                String colour = o.attribute("colour");
                assertTrue(Vocabulary.colours(o.toyClass()).contains(colour), o.toyClass() + " in " + colour + ", seed " + seed);
                seen.computeIfAbsent(o.toyClass(), c -> new java.util.TreeSet<>()).add(colour);
            }
        }
        for (ToyClass c : seen.keySet()) assertEquals(new java.util.TreeSet<>(Vocabulary.colours(c)), seen.get(c), c + ": every listed colour occurs");
        assertTrue(Vocabulary.colours(ToyClass.SKY).isEmpty());
    }

    @Test
    void datasetFolderHoldsDecodableMapsAndAnIndex(@TempDir Path root) throws Exception {
        Path dir = DatasetWriter.write(root, DatasetSplit.VALIDATION, 3, SceneOptions.defaults(), PaintingOptions.defaults());
        assertEquals(Vocabulary.words(), Files.readAllLines(root.resolve("vocabulary.txt")));
        List<String> lines = Files.readAllLines(dir.resolve("index.jsonl"));
        assertEquals(3, lines.size());
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < 3; i++) {
            JsonNode e = json.readTree(lines.get(i));
            long seed = DatasetSplit.VALIDATION.firstSeed() + i;
            assertEquals(seed, e.get("seed").asLong());
            Scene s = ToyWorld.sample(seed);
            assertEquals(s.caption(), e.get("captions").get(0).asText());
            assertEquals(s.objects().size(), e.get("objects").size());
            for (String map : DatasetWriter.MAPS) assertTrue(Files.isRegularFile(dir.resolve(e.get("files").get(map).asText())), map);
            BufferedImage segIdx = ImageIO.read(dir.resolve(e.get("files").get("segidx").asText()).toFile());
            BufferedImage segColour = ImageIO.read(dir.resolve(e.get("files").get("seg").asText()).toFile());
            BufferedImage image = ImageIO.read(dir.resolve(e.get("files").get("image").asText()).toFile());
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    int k = y * 64 + x;
                    assertEquals(s.seg()[k], segIdx.getRaster().getSample(x, y, 0));
                    assertEquals(s.seg()[k], ToyClass.decode(segColour.getRGB(x, y) & 0xFFFFFF, 63));
                    assertEquals(s.rgb()[k], image.getRGB(x, y) & 0xFFFFFF);
                }
            }
        }
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
        assertThrows(IllegalArgumentException.class, () -> DatasetSplit.TRAIN.seed(DatasetSplit.MAX_SCENES));
    }

    @Test
    void contactSheetHasOneRowPerSceneAndSixColumns() {
        List<Scene> scenes = List.of(ToyWorld.sample(1), ToyWorld.sample(2));
        BufferedImage sheet = ContactSheet.of(scenes, 2, PaintingOptions.defaults());
        assertEquals(6 * (128 + 2) + 2, sheet.getWidth());
        assertEquals(2 * (128 + 2) + 2, sheet.getHeight());
        assertEquals(scenes.get(0).rgb()[0], sheet.getRGB(2, 2) & 0xFFFFFF);
    }

    /**
     * Every file a dataset holds (vocabulary.txt, palette.json, index.jsonl, the PNGs), each written atomically through
     * a temporary file, has the permissions a plainly written file has, not createTempFile's private 0600. POSIX only.
     */
    @Test
    void datasetFilesGetAPlainFilesPermissions(@TempDir Path root) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(root.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path dir = DatasetWriter.write(root, DatasetSplit.TEST, 1, SceneOptions.defaults(), PaintingOptions.defaults());
        AtomicPng.write(new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), root.resolve("sheet.png"));
        Object plain = Files.getPosixFilePermissions(Files.writeString(root.resolve("plain.txt"), "x"));
        List<Path> files = new ArrayList<>(List.of(root.resolve("vocabulary.txt"), root.resolve("palette.json"), dir.resolve("index.jsonl"),
                root.resolve("sheet.png")));
        try (var listing = Files.list(dir)) {
            listing.filter(p -> p.toString().endsWith(".png")).forEach(files::add);
        }
        for (Path f : files) assertEquals(plain, Files.getPosixFilePermissions(f), f.toString());
        Vocabulary.write(root.resolve("vocabulary.txt"));   // rewritten: still so
        assertEquals(plain, Files.getPosixFilePermissions(root.resolve("vocabulary.txt")));
    }
}
