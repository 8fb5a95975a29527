/**
 * Segmentation-guided sampling: a differentiable segmenter steers a reverse pass toward a wanted class map. After a
 * scheduler step, the step's x0 prediction is moved by a few Adam steps on the segmenter's cross-entropy of the decoded
 * image against the wanted classes (gradients through the VAE decoder and the segmenter, never the UNet, as in
 * GradOP), and the latent takes the same move at its noise level. FG-DM's image factor uses it to draw what its
 * generated segmentation map says ({@link org.ldm4j.methods.fgdm.MapGuidance}); Blended Latent Diffusion to draw the
 * requested object inside its mask.
 *
 * <p>Not part of either paper. The guide is a segmenter of its own: measuring the result with the same network that
 * steered it would score the steering, not the image.
 */
package org.ldm4j.methods.guidance;
