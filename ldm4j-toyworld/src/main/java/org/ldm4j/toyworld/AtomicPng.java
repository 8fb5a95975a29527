package org.ldm4j.toyworld;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.imageio.ImageIO;

/** PNG writing that never leaves a half-written file: write a temp file in the same folder, then move it. */
public final class AtomicPng {
    private AtomicPng() {}

    public static void write(BufferedImage image, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = org.ldm4j.image.AtomicFiles.newTempFile(dir, "." + file.getFileName() + ".");   // a new file's usual permissions
        try {
            if (!ImageIO.write(image, "png", tmp.toFile())) throw new IOException("no PNG writer for image type " + image.getType() + " (" + file + ")");
            org.ldm4j.image.AtomicFiles.keepUsualPermissions(tmp, file);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
