package org.embeddinggemma.quantization;

/**
 * A weight {@code W[in, out]} as int8 with one scale per output column: {@code W[k][n] ≈
 * values[k * out + n] * scales[n]}, symmetric (zero point 0), levels -127 to 127. Per column keeps
 * each output's own range; it is what {@code MatMulIntegerToFloat}'s {@code b_scale} of length
 * {@code out} takes.
 *
 * @param in rows
 * @param out columns
 * @param values int8 levels, row-major
 * @param scales one per column
 */
public record ColumnInt8Weights(int in, int out, byte[] values, float[] scales) {

  /** The largest level: 7 bits and a sign, so that no CPU's int16 pair sums saturate. */
  public static final int LEVELS = 63;

  /**
   * @throws IllegalArgumentException if the sizes do not match
   */
  public ColumnInt8Weights {
    if ((long) in * out != values.length || scales.length != out) {
      throw new IllegalArgumentException(
          "a [" + in + ", " + out + "] weight needs " + (long) in * out + " values and " + out + " scales, got "
              + values.length + " and " + scales.length);
    }
  }

  /** Quantises {@code weights}, row-major {@code [in, out]}. */
  public static ColumnInt8Weights of(float[] weights, int in, int out) {
    if ((long) in * out != weights.length) {
      throw new IllegalArgumentException("a [" + in + ", " + out + "] weight needs " + (long) in * out + " values, got " + weights.length);
    }
    float[] largest = new float[out];
    for (int k = 0; k < in; k++) {
      for (int n = 0; n < out; n++) {
        largest[n] = Math.max(largest[n], Math.abs(weights[k * out + n]));
      }
    }
    float[] scales = new float[out];
    float[] inverse = new float[out];
    for (int n = 0; n < out; n++) {
      // An all-zero column keeps scale 1, so that dequantising never divides by zero.
      scales[n] = largest[n] > 0 ? largest[n] / LEVELS : 1f;
      inverse[n] = 1f / scales[n];
    }
    byte[] values = new byte[weights.length];
    for (int k = 0; k < in; k++) {
      for (int n = 0; n < out; n++) {
        int level = Math.round(weights[k * out + n] * inverse[n]);
        values[k * out + n] = (byte) Math.max(-LEVELS, Math.min(LEVELS, level));
      }
    }
    return new ColumnInt8Weights(in, out, values, scales);
  }

  /** The weight as it is multiplied once quantised: {@code values * scales}, row-major. */
  public float[] dequantised() {
    float[] weights = new float[values.length];
    for (int k = 0; k < in; k++) {
      for (int n = 0; n < out; n++) {
        weights[k * out + n] = values[k * out + n] * scales[n];
      }
    }
    return weights;
  }
}
