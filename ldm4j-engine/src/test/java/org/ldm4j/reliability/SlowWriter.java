package org.ldm4j.reliability;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.TensorInfo;
import org.ldm4j.weights.WeightSource;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Child-process main for {@link CrashDuringWriteTest}: writes a large file through the project's atomic writers,
 * slowly, printing {@code WRITING} once the first part is on its way so the parent can kill it mid-write.
 * Usage: {@code SlowWriter png|safetensors TARGET MARKER slow|fast}; MARKER (one byte) is the file's content pattern.
 */
public final class SlowWriter {
    static final int PARTS = 16, PART_BYTES = 1 << 20;

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        Path target = Path.of(args[1]);
        byte marker = (byte) Integer.parseInt(args[2]);
        boolean slow = args[3].equals("slow");
        torch.set_num_threads(1);
        if (kind.equals("png")) {
            AtomicFiles.write(target, out -> {
                byte[] part = new byte[PART_BYTES];
                java.util.Arrays.fill(part, marker);
                for (int i = 0; i < PARTS; i++) {
                    out.write(part);
                    pause(slow, i);
                }
            });
        } else {
            Set<String> names = new LinkedHashSet<>();
            for (int i = 0; i < PARTS; i++) names.add(String.format("t%02d", i));
            SafetensorsWriter.write(target, new WeightSource() {
                int served;
                @Override public Set<String> names() { return names; }
                @Override public TensorInfo info(String name) { return new TensorInfo("U8", new long[]{PART_BYTES}); }
                @Override public Tensor read(String name) {
                    pause(slow, served++);
                    return torch.full(new long[]{PART_BYTES}, new org.bytedeco.pytorch.Scalar(marker & 0xff),
                            new org.bytedeco.pytorch.TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(torch.ScalarType.Byte)));
                }
                @Override public void close() {}
            }, Map.of("marker", Integer.toString(marker)));
        }
        System.out.println("DONE");
    }

    private static void pause(boolean slow, int i) {
        if (i == 1) {
            System.out.println("WRITING");
            System.out.flush();
        }
        if (slow) {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
