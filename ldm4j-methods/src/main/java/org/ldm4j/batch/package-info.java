/**
 * Batch generation shared by {@code ldm4j batch} (one process) and the Spark job (module ldm4j-spark): a JSON
 * {@link org.ldm4j.batch.BatchSpec} expands into numbered {@link org.ldm4j.batch.BatchItem}s, each generated and
 * written atomically by {@link org.ldm4j.batch.BatchGenerator} into a {@link org.ldm4j.batch.BatchStore}, with one
 * {@link org.ldm4j.batch.BatchRow} per item for the index.
 *
 * <p>It lives in ldm4j-methods, not the engine, because a batch runs stroke2img (GradOP) and edit (Blended Latent
 * Diffusion) as well as txt2img/img2img; nothing here knows Spark or Hadoop.
 */
package org.ldm4j.batch;
