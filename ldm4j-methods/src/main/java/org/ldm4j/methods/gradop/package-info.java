/**
 * GradOP / GradOP+ (Singh, Gould, Zheng, "High-Fidelity Guided Image Synthesis with Latent Diffusion Models",
 * CVPR 2023; github.com/1jsingh/GradOP-Guided-Image-Synthesis): stroke painting + prompt → realistic image.
 *
 * <p>Entry points: {@link org.ldm4j.methods.gradop.GradOpPlus} (one reverse pass, the official method),
 * {@link org.ldm4j.methods.gradop.GradOp} (two passes, reconstructed), {@link org.ldm4j.methods.gradop.Stroke2ImgBaselines}
 * (SDEdit, text-only preview, iterative SDEdit), {@link org.ldm4j.methods.gradop.RegionSemantics} (colour → phrase
 * control through cross-attention, reconstructed).
 *
 * <p>Parity with the official pipeline ({@link org.ldm4j.methods.gradop.GradOpPlusSettings#official()}): DDIM with the
 * official flags, 50 steps, CFG 7.5, start latent = zeros noised to t=981, optimisation after steps
 * ⌊50·(1 − strength)⌋ … +2 (truncated: 9 at 0.8), 12 Adam steps (lr 0.1, torch 1.12 arithmetic, fresh state) on the
 * noisy latent for mean((blur35σ7(clamp((D(z/0.18215)+1)/2)) − y)²), re-noise with a fresh draw of the same generator.
 * A CPU generator gives PyTorch's CPU stream; the published outputs used a CUDA generator and cannot match seed-for-seed.
 *
 * <p>Deviations, all opt-in or beyond what the official code handles: any size that is a multiple of the VAE factor
 * (official: 512x512 only); RGBA composited on a background (official: alpha dropped); decoder parameters never get
 * gradients (official: accumulated, unused); SDEdit honours its strength (official {@code run.py} ignores it);
 * {@link org.ldm4j.methods.gradop.GradOpPlusSettings.Optimised#PREDICTED_X0} and
 * {@link org.ldm4j.methods.gradop.GradOpPlusSettings.StartLatent#UNIT_GAUSSIAN} variants; a median + palette painting
 * function; a lower-resolution loss; models other than SD keep their own betas under the official DDIM flags.
 */
package org.ldm4j.methods.gradop;
