package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PoolingStrategyTest {

  // batch 2, tokens 3, hidden 2; the second text has one padding token
  static final float[] TOKENS = {1, 2, 3, 4, 5, 6, /* text 2 */ 10, 20, 30, 40, 99, 99};
  static final long[][] MASK = {{1, 1, 1}, {1, 1, 0}};

  @Test
  void meanAveragesUnmaskedTokensOnly() {
    float[][] pooled = PoolingStrategy.MEAN.pool(TOKENS, MASK, 2);
    assertArrayEquals(new float[] {3, 4}, pooled[0]);
    assertArrayEquals(new float[] {20, 30}, pooled[1], "the padded 99s are left out");
  }

  @Test
  void clsTakesTheFirstToken() {
    float[][] pooled = PoolingStrategy.CLS.pool(TOKENS, MASK, 2);
    assertArrayEquals(new float[] {1, 2}, pooled[0]);
    assertArrayEquals(new float[] {10, 20}, pooled[1]);
  }

  @Test
  void sentenceEmbeddingIsPooledInTheGraph() {
    assertEquals("sentence_embedding", PoolingStrategy.SENTENCE_EMBEDDING.outputName());
    assertEquals("last_hidden_state", PoolingStrategy.MEAN.outputName());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> PoolingStrategy.SENTENCE_EMBEDDING.pool(TOKENS, MASK, 2));
    assertEquals("sentence_embedding is pooled inside the graph; there is nothing to pool in Java", e.getMessage());
  }

  @Test
  void shapeMismatchAndNamesAreReported() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PoolingStrategy.MEAN.pool(TOKENS, MASK, 3));
    assertEquals("token vectors hold 12 values, expected batch*tokens*hidden = 2*3*3", e.getMessage());
    assertEquals(PoolingStrategy.CLS, PoolingStrategy.fromName("cls"));
    e = assertThrows(IllegalArgumentException.class, () -> PoolingStrategy.fromName("max"));
    assertEquals("unknown pooling [max]; expected one of [sentence_embedding, mean, cls]", e.getMessage());
  }
}
