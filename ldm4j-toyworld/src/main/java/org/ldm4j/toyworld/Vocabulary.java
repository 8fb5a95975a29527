package org.ldm4j.toyworld;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Every word a ToyWorld caption can contain, sorted: the input from which a later step builds a CLIP
 * vocab.json/merges.txt for the domain. Captions are lower case; {@link #words(String)} splits one the same way
 * (spaces, commas dropped). A test samples many scenes and checks that every caption word is listed here.
 */
public final class Vocabulary {
    /** Words of the caption templates in {@link Captioner}, besides the attribute tables of {@link SceneLayout}. */
    private static final String TEMPLATE_WORDS = String.join(" ",
            "a an and with of the on in by near under at to",
            "house houses tree trees boat boats car cars rock rocks flowers patch patches",
            "roof sail small big tall",
            "left right beside front behind above lake sea ocean mountains background",
            "grass meadow sand sandy beach snow snowy ground green coastal landscape scene",
            "sky clear blue cloudy sunny day sunset orange evening low sun night starry moon crescent full");

    private static final List<String> WORDS;

    static {
        TreeSet<String> all = new TreeSet<>(Arrays.asList(TEMPLATE_WORDS.split(" ")));
        for (String n : Captioner.NUMBERS) if (!n.isEmpty()) all.add(n);
        for (String[] table : List.of(SceneLayout.HOUSE_WALLS, SceneLayout.ROOFS, SceneLayout.CAR_COLOURS,
                SceneLayout.BOAT_COLOURS, SceneLayout.FLOWER_COLOURS, SceneLayout.ROCK_COLOURS,
                SceneLayout.SPECIES, SceneLayout.CROWN_COLOURS)) {
            all.addAll(Arrays.asList(table));
        }
        WORDS = List.copyOf(all);
    }

    private Vocabulary() {}

    /** All caption words, sorted, without duplicates. */
    public static List<String> words() { return WORDS; }

    /**
     * The colour words captions give an object of class {@code c}: a house's wall colours, a tree's crown colours
     * (captions leave out green), the hull, petal, body and rock colours; empty for the stuff classes.
     */
    public static List<String> colours(ToyClass c) {
        String[] table = switch (c) {
            case HOUSE -> SceneLayout.HOUSE_WALLS;
            case TREE -> SceneLayout.CROWN_COLOURS;
            case BOAT -> SceneLayout.BOAT_COLOURS;
            case FLOWERS -> SceneLayout.FLOWER_COLOURS;
            case CAR -> SceneLayout.CAR_COLOURS;
            case ROCK -> SceneLayout.ROCK_COLOURS;
            default -> new String[0];
        };
        return List.of(table);
    }

    /** True if the word can occur in a caption. */
    public static boolean contains(String word) { return java.util.Collections.binarySearch(WORDS, word) >= 0; }

    /** Splits a caption into its words: lower case, on spaces, commas removed. */
    public static List<String> words(String caption) {
        List<String> out = new ArrayList<>();
        for (String w : caption.toLowerCase(Locale.ROOT).replace(",", " ").split("\\s+")) if (!w.isEmpty()) out.add(w);
        return out;
    }

    /** Writes the words one per line (UTF-8), atomically. */
    public static void write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = org.ldm4j.image.AtomicFiles.newTempFile(dir, "." + file.getFileName() + ".");   // a new file's usual permissions
        try {
            Files.write(tmp, String.join("\n", WORDS).concat("\n").getBytes(StandardCharsets.UTF_8));
            org.ldm4j.image.AtomicFiles.keepUsualPermissions(tmp, file);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
