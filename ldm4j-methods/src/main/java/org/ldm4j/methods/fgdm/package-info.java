/**
 * FG-DM, Factor Graph Diffusion Models (Sridhar, Peri, Rachala, Vasconcelos, NeurIPS 2024, "Adapting Diffusion
 * Models for Improved Prompt Compliance and Controllable Image Synthesis", arXiv 2410.21638; official code
 * {@code DeepakSridhar/fgdm}); brief: shared/design/fgdm.md.
 *
 * <ul>
 *   <li>{@link org.ldm4j.methods.fgdm.FactorGraph} + {@link org.ldm4j.methods.fgdm.FactorGraphSampler}: condition
 *       factors and an image factor sharing one frozen UNet, sampled sequentially (released code) or jointly
 *       (the paper's eqs. 4-6).</li>
 *   <li>{@link org.ldm4j.methods.fgdm.FgdmFolder} + {@link org.ldm4j.methods.fgdm.FgdmManifest}: a trained FG-DM on
 *       disk ({@code fgdm.json} + adapter / ControlNet weights over a base LDM) loaded as a factor graph.</li>
 *   <li>{@link org.ldm4j.methods.fgdm.Palette}, {@link org.ldm4j.methods.fgdm.ClassMap},
 *       {@link org.ldm4j.methods.fgdm.SegmentationMaps}: segmentation maps as colour images and back.</li>
 *   <li>{@link org.ldm4j.methods.fgdm.Sbpc} / {@link org.ldm4j.methods.fgdm.ImageSbpc}: sampling-based prompt
 *       compliance on condition maps, and its image-level baseline.</li>
 *   <li>{@link org.ldm4j.methods.fgdm.MapEdits}, {@link org.ldm4j.methods.fgdm.DepthEdits}: the editor's operations on
 *       generated maps.</li>
 * </ul>
 */
package org.ldm4j.methods.fgdm;
