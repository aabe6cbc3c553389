package org.embeddinggemma.engine;

/**
 * The embedding of one text.
 *
 * @param vector the unit-length float vector, already truncated to the requested dims
 * @param tokenCount how many tokens the model saw, special tokens included
 * @param truncated whether the text was cut to the model's maximum number of tokens
 * @param model the model that made it: vectors of different models must never be compared
 */
public record Embedding(float[] vector, int tokenCount, boolean truncated, ModelFingerprint model) {

  /** The vector quantised for byte vector fields; see {@link Int8Quantization}. */
  public byte[] int8Vector() {
    return Int8Quantization.quantize(vector);
  }

  /** The number of dimensions of {@link #vector()}. */
  public int dims() {
    return vector.length;
  }
}
