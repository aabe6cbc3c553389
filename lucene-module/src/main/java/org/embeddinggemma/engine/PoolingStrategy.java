package org.embeddinggemma.engine;

import java.util.Locale;

/**
 * How one vector is made from the model's output for a text.
 *
 * <p>The EmbeddingGemma export pools and applies its two Dense layers inside the graph, so its
 * {@value #SENTENCE_EMBEDDING_OUTPUT} output is used as it is. Plain encoders such as MiniLM only
 * expose {@value #TOKEN_EMBEDDINGS_OUTPUT}, which is pooled here.
 */
public enum PoolingStrategy {
  /** Take the graph's own {@value #SENTENCE_EMBEDDING_OUTPUT} output; no pooling in Java. */
  SENTENCE_EMBEDDING,
  /** Average the token vectors of {@value #TOKEN_EMBEDDINGS_OUTPUT} where the attention mask is 1. */
  MEAN,
  /** Take the first token's vector of {@value #TOKEN_EMBEDDINGS_OUTPUT}. */
  CLS;

  /** Name of the graph output holding pooled, projected sentence vectors [batch, dims]. */
  public static final String SENTENCE_EMBEDDING_OUTPUT = "sentence_embedding";

  /** Name of the graph output holding token vectors [batch, tokens, hidden]. */
  public static final String TOKEN_EMBEDDINGS_OUTPUT = "last_hidden_state";

  /** The graph output this strategy reads. */
  public String outputName() {
    return this == SENTENCE_EMBEDDING ? SENTENCE_EMBEDDING_OUTPUT : TOKEN_EMBEDDINGS_OUTPUT;
  }

  /** The name used in the model configuration file, e.g. {@code mean}. */
  public String externalName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a name from the model configuration file.
   *
   * @throws IllegalArgumentException if the name is not {@code sentence_embedding}, {@code mean} or
   *     {@code cls}
   */
  public static PoolingStrategy fromName(String name) {
    for (PoolingStrategy strategy : values()) {
      if (strategy.externalName().equals(name)) {
        return strategy;
      }
    }
    throw new IllegalArgumentException(
        "unknown pooling [" + name + "]; expected one of [sentence_embedding, mean, cls]");
  }

  /**
   * Pools token vectors into one vector per text.
   *
   * @param tokenVectors row-major [batch, tokens, hidden] values
   * @param attentionMask [batch][tokens], 1 for real tokens and 0 for padding
   * @param hidden the size of one token vector
   * @return [batch][hidden]
   * @throws IllegalStateException for {@link #SENTENCE_EMBEDDING}, which has nothing to pool
   */
  public float[][] pool(float[] tokenVectors, long[][] attentionMask, int hidden) {
    int batch = attentionMask.length;
    int tokens = batch == 0 ? 0 : attentionMask[0].length;
    if (tokenVectors.length != batch * tokens * hidden) {
      throw new IllegalArgumentException(
          "token vectors hold "
              + tokenVectors.length
              + " values, expected batch*tokens*hidden = "
              + batch
              + "*"
              + tokens
              + "*"
              + hidden);
    }
    float[][] pooled = new float[batch][hidden];
    for (int b = 0; b < batch; b++) {
      int rowStart = b * tokens * hidden;
      switch (this) {
        case CLS -> System.arraycopy(tokenVectors, rowStart, pooled[b], 0, hidden);
        case MEAN -> {
          // Sum in double: a 2048-token sum in float loses the last digits the reference keeps.
          double[] sum = new double[hidden];
          int count = 0;
          for (int t = 0; t < tokens; t++) {
            if (attentionMask[b][t] == 0) {
              continue;
            }
            count++;
            int offset = rowStart + t * hidden;
            for (int h = 0; h < hidden; h++) {
              sum[h] += tokenVectors[offset + h];
            }
          }
          if (count == 0) {
            throw new IllegalArgumentException("text " + b + " of the batch has no unmasked token");
          }
          for (int h = 0; h < hidden; h++) {
            pooled[b][h] = (float) (sum[h] / count);
          }
        }
        case SENTENCE_EMBEDDING ->
            throw new IllegalStateException(
                "sentence_embedding is pooled inside the graph; there is nothing to pool in Java");
      }
    }
    return pooled;
  }
}
