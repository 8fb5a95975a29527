package org.ldm4j.cli;

import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.Palette;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options {@code fgdm sample} and {@code fgdm dataset} share (a picocli mixin): which FG-DM, on what device. */
final class FgdmModelOptions {
    @Option(names = "--model", description = "FG-DM folder with fgdm.json (default models/toyworld-fgdm, beside the default base model).")
    Path model;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N.")
    String device;
    @Option(names = "--dtype", defaultValue = "fp32", description = "fp32, bf16 or fp16.")
    String dtype;
    @Option(names = "--threads", description = "libtorch threads (default 1).")
    Integer threads;

    /** The folder's manifest, checked ({@link FgdmSupport#read}). */
    FgdmFolder read() { return FgdmSupport.read(model); }

    /** The base model and the factors on the chosen device ({@link FgdmSupport#load}). */
    FactorGraph load(FgdmFolder folder, Palette palette) { return FgdmSupport.load(folder, palette, device, dtype, threads); }
}
