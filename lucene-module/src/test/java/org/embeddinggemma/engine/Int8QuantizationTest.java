package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class Int8QuantizationTest {

  @Test
  void largestMagnitudeBecomes127() {
    assertArrayEquals(new byte[] {127, -76, 0, 13}, Int8Quantization.quantize(new float[] {0.5f, -0.3f, 0f, 0.05f}));
    assertArrayEquals(new byte[] {-127, 127}, Int8Quantization.quantize(new float[] {-0.001f, 0.001f}));
  }

  @Test
  void neverProducesMinus128() {
    byte[] quantized = Int8Quantization.quantize(new float[] {-1f, -0.9999f, 1f});
    for (byte value : quantized) {
      assertEquals(true, value >= -127, "value " + value);
    }
  }

  @Test
  void rejectsVectorsWithoutDirection() {
    assertEquals("cannot quantise an empty vector", assertThrows(IllegalArgumentException.class, () -> Int8Quantization.quantize(new float[0])).getMessage());
    assertEquals(
        "cannot quantise an all-zero vector of 3 dims: it has no direction",
        assertThrows(IllegalArgumentException.class, () -> Int8Quantization.quantize(new float[3])).getMessage());
    assertEquals(
        "cannot quantise a vector holding NaN",
        assertThrows(IllegalArgumentException.class, () -> Int8Quantization.quantize(new float[] {1, Float.NaN})).getMessage());
  }
}
