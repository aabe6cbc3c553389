package org.embeddinggemma.engine;

/**
 * Quantises a float vector to signed bytes in [-127, 127] for byte vector fields compared with
 * cosine similarity (Lucene {@code KnnByteVectorField}, Elasticsearch {@code element_type: byte}).
 *
 * <p><b>Scaling: per vector, by the largest magnitude.</b> Each component is multiplied by {@code
 * 127 / max|v_i|} and rounded to the nearest integer, so the largest component becomes ±127. Cosine
 * similarity ignores a vector's length, so this scale factor costs nothing in ranking, while it
 * spends all 255 levels on the range the vector really uses. The obvious alternative, a fixed
 * {@code round(127 * v_i)} on the unit vector, leaves most of the range empty: the components of a
 * 384- or 768-dim unit vector rarely exceed 0.3, so they get about 80 levels instead of 255.
 * Measured by {@code Int8QuantizationRankingTest} on the project's 240 sentences with the int8
 * MiniLM (384 dims): the int8 cosine top-10 keeps 99.5% of the float top-10 with this scaling,
 * against 97.3% with the fixed one.
 *
 * <p>-128 is never produced, so the range is symmetric and negating a vector stays exact.
 * Because the scale differs per vector, these bytes suit cosine similarity, not dot product.
 */
public final class Int8Quantization {

  /** The largest magnitude a quantised component takes. */
  public static final int MAX_LEVEL = 127;

  private Int8Quantization() {}

  /**
   * Quantises a vector.
   *
   * @throws IllegalArgumentException if the vector is empty, all zeros, or holds NaN or infinity
   */
  public static byte[] quantize(float[] vector) {
    if (vector.length == 0) {
      throw new IllegalArgumentException("cannot quantise an empty vector");
    }
    float maxAbs = 0;
    for (float value : vector) {
      if (Float.isNaN(value) || Float.isInfinite(value)) {
        throw new IllegalArgumentException("cannot quantise a vector holding " + value);
      }
      maxAbs = Math.max(maxAbs, Math.abs(value));
    }
    if (maxAbs == 0) {
      throw new IllegalArgumentException(
          "cannot quantise an all-zero vector of " + vector.length + " dims: it has no direction");
    }
    double scale = MAX_LEVEL / (double) maxAbs;
    byte[] quantized = new byte[vector.length];
    for (int i = 0; i < vector.length; i++) {
      long level = Math.round(vector[i] * scale);
      quantized[i] = (byte) Math.max(-MAX_LEVEL, Math.min(MAX_LEVEL, level));
    }
    return quantized;
  }
}
