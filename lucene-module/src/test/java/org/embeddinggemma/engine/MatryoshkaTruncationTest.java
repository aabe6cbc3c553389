package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MatryoshkaTruncationTest {

  @Test
  void keepsThePrefixAndRenormalises() {
    float[] truncated = new MatryoshkaTruncation(2).apply(new float[] {3, 4, 100, -7});
    assertArrayEquals(new float[] {0.6f, 0.8f}, truncated, 1e-7f);
  }

  @Test
  void fullLengthOnlyNormalises() {
    float[] vector = {1, 1, 1, 1};
    assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, new MatryoshkaTruncation(4).apply(vector), 1e-7f);
    assertArrayEquals(new float[] {1, 1, 1, 1}, vector, "the input is not modified");
  }

  @Test
  void rejectsImpossibleTruncations() {
    assertEquals("dims must be at least 1, got 0", assertThrows(IllegalArgumentException.class, () -> new MatryoshkaTruncation(0)).getMessage());
    assertEquals(
        "cannot truncate a vector of 3 dims to 4 dims",
        assertThrows(IllegalArgumentException.class, () -> new MatryoshkaTruncation(4).apply(new float[3])).getMessage());
    assertEquals(
        "the first 2 dims of the vector have norm 0.0; cannot normalise them",
        assertThrows(IllegalStateException.class, () -> new MatryoshkaTruncation(2).apply(new float[] {0, 0, 1})).getMessage());
  }
}
