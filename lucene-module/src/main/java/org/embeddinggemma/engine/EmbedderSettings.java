package org.embeddinggemma.engine;

/**
 * How a {@link TextEmbedder} runs its model.
 *
 * @param intraOpThreads threads ONNX Runtime uses inside one inference; at least 1
 * @param maxBatchSize the most texts run through the model at once; at least 1. Larger batches pad
 *     more and use more memory ({@code batch * tokens * hidden} floats of activations)
 * @param tokenBudget the most padded tokens (texts × longest text) in one model run; at least 1.
 *     Bounds the memory of a run of long texts; see {@link BatchPlanner}
 */
public record EmbedderSettings(int intraOpThreads, int maxBatchSize, int tokenBudget) {

  /**
   * One thread per available processor, batches of up to 16 texts and {@value
   * BatchPlanner#DEFAULT_TOKEN_BUDGET} padded tokens.
   */
  public static final EmbedderSettings DEFAULTS =
      new EmbedderSettings(Runtime.getRuntime().availableProcessors(), 16, BatchPlanner.DEFAULT_TOKEN_BUDGET);

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
    if (tokenBudget < 1) {
      throw new IllegalArgumentException("tokenBudget must be at least 1, got " + tokenBudget);
    }
  }

  /** Settings with the default token budget, {@value BatchPlanner#DEFAULT_TOKEN_BUDGET}. */
  public EmbedderSettings(int intraOpThreads, int maxBatchSize) {
    this(intraOpThreads, maxBatchSize, BatchPlanner.DEFAULT_TOKEN_BUDGET);
  }
}
