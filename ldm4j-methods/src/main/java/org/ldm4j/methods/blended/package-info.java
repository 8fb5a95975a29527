/**
 * Blended Latent Diffusion (Avrahami, Fried, Lischinski, SIGGRAPH 2023): text-driven local edits inside a mask.
 * Entry point {@link org.ldm4j.methods.blended.BlendedLatentDiffusion}; options and presets
 * {@link org.ldm4j.methods.blended.BlendSettings}; design notes {@code shared/design/blended.md}.
 */
package org.ldm4j.methods.blended;
