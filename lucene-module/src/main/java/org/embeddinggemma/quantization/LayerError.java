package org.embeddinggemma.quantization;

import java.util.Arrays;

/**
 * How far a linear layer's output moves when both its weight and its input are quantised: {@code
 * ||Xq Wq - X W|| / ||X W||} over calibration rows, where each row of {@code X} is quantised as the
 * W8A8 graph quantises it per token ({@link W8A8Graph#ACTIVATION_LEVELS} levels of its own largest
 * magnitude, in one pass or two) and {@code W} per column ({@link ColumnInt8Weights}).
 */
public final class LayerError {

  private LayerError() {}

  /**
   * @param rows activations, {@code count} rows of {@code quantised.in()} values, row-major
   * @param weight the fp32 weight, row-major {@code [in, out]}
   * @param quantised the same weight quantised
   * @param passes 1: each row quantised once; 2: its rounding error quantised again and added
   * @return the relative error of the output, 0 for an all-zero output
   */
  public static double relative(float[] rows, int count, float[] weight, ColumnInt8Weights quantised, int passes) {
    int in = quantised.in();
    int out = quantised.out();
    if ((long) count * in != rows.length || weight.length != (long) in * out) {
      throw new IllegalArgumentException(
          "expected " + count + " rows of " + in + " and a weight of " + (long) in * out + " values, got "
              + rows.length + " and " + weight.length);
    }
    if (passes != 1 && passes != 2) {
      throw new IllegalArgumentException("passes must be 1 or 2, got " + passes);
    }
    float[] dequantised = quantised.dequantised();
    float[] row = new float[in];
    float[] approximateRow = new float[in];
    float[] residual = new float[in];
    float[] exact = new float[out];
    float[] approximate = new float[out];
    double error = 0;
    double norm = 0;
    for (int r = 0; r < count; r++) {
      System.arraycopy(rows, r * in, row, 0, in);
      quantiseRow(row, approximateRow);
      if (passes == 2) {
        for (int k = 0; k < in; k++) {
          residual[k] = row[k] - approximateRow[k];
        }
        quantiseRow(residual, residual);
        for (int k = 0; k < in; k++) {
          approximateRow[k] += residual[k];
        }
      }
      Arrays.fill(exact, 0);
      Arrays.fill(approximate, 0);
      for (int k = 0; k < in; k++) {
        float x = row[k];
        float xq = approximateRow[k];
        int base = k * out;
        for (int n = 0; n < out; n++) {
          exact[n] += x * weight[base + n];
          approximate[n] += xq * dequantised[base + n];
        }
      }
      for (int n = 0; n < out; n++) {
        double difference = approximate[n] - exact[n];
        error += difference * difference;
        norm += (double) exact[n] * exact[n];
      }
    }
    return norm == 0 ? 0 : Math.sqrt(error / norm);
  }

  /** {@code row} rounded to levels of its own largest magnitude, into {@code into} (which may be {@code row}). */
  private static void quantiseRow(float[] row, float[] into) {
    float largest = 0;
    for (float x : row) {
      largest = Math.max(largest, Math.abs(x));
    }
    float scale = Math.max(largest, W8A8Graph.TINY) / W8A8Graph.ACTIVATION_LEVELS;
    float inverse = W8A8Graph.ACTIVATION_LEVELS / Math.max(largest, W8A8Graph.TINY);
    for (int k = 0; k < row.length; k++) {
      into[k] = Math.round(row[k] * inverse) * scale;
    }
  }
}
