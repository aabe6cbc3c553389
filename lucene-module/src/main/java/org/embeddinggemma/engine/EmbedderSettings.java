package org.embeddinggemma.engine;

/**
 * How a {@link TextEmbedder} runs its model.
 *
 * @param intraOpThreads threads ONNX Runtime uses inside one inference; at least 1
 * @param maxBatchSize the most texts run through the model at once; at least 1. Larger batches pad
 *     more and use more memory ({@code batch * tokens * hidden} floats of activations)
 */
public record EmbedderSettings(int intraOpThreads, int maxBatchSize) {

  /** One thread per available processor, batches of up to 16 texts. */
  public static final EmbedderSettings DEFAULTS =
      new EmbedderSettings(Runtime.getRuntime().availableProcessors(), 16);

  /**
   * @throws IllegalArgumentException if a value is below 1
   */
  public EmbedderSettings {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("intraOpThreads must be at least 1, got " + intraOpThreads);
    }
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
    }
  }
}
