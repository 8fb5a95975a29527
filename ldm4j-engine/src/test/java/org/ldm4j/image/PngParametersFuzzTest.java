package org.ldm4j.image;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.ldm4j.reliability.FuzzContract;

import java.io.IOException;

/**
 * Fuzzes {@link PngParameters#read(byte[], String)}: chunk structure, CRCs, tEXt/zTXt/iTXt (compressed text is
 * inflated with a 64 MiB cap), the A1111 infotext and the ldm4j JSON. Contract: a broken chunk structure is a
 * {@link MalformedPngException}, a broken ldm4j JSON chunk an IOException naming the chunk; nothing else.
 * CRCs defeat random mutation, so the corpus holds real PNGs and the fuzzer relies on Jazzer's CRC32 hooks
 * (libFuzzer's compare tracing) to keep mutants valid.
 */
class PngParametersFuzzTest {
    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"tEXt", "zTXt", "iTXt", "IEND", "IHDR", "parameters", "ldm4j", "Steps: ", "Negative prompt: "})
    void readChunks(byte[] png) {
        FuzzContract.check("PngParameters.read", () -> {
            PngParameters.Contents c = PngParameters.read(png, "fuzz.png");
            c.fields();
            if (c.infotext() != null) c.infotext().format();
        }, IOException.class);
    }
}
