package org.embeddinggemma.engine;

import java.util.List;
import java.util.function.Function;
import org.apache.lucene.util.VectorUtil;

/**
 * Whether a graph gives a text the same vector alone and in a padded batch, learned by running it:
 * a short probe text alone, then beside a longer one. Dynamically quantised graphs (such as {@code
 * model_quantized.onnx}) pick their int8 scale from the whole batch, so a text's vector depends on
 * its neighbours and on padding; callers run such a graph one text at a time, so that a text always
 * gets the same vector.
 *
 * @param dims the dims of the vectors the graph produces
 * @param invariant whether the probe's vector alone and batched agree within {@link #SAME_VECTOR}
 */
public record BatchInvariance(int dims, boolean invariant) {

  /** Same text, same vector: what "within float rounding" means for padding and batching. */
  public static final double SAME_VECTOR = 0.99999;

  /** The probe: token ids that every vocabulary the engine meets has, short enough for any window. */
  static final TokenizedText SHORT_PROBE = new TokenizedText(new long[] {1000, 1001, 1002}, false);

  /**
   * The text the short probe is batched with: 70 tokens, so that the batch is padded past 64 keys,
   * where ONNX Runtime's fp32 GEMM changes its inner stride (see {@code W8A8Graph}); ids 1003-1010
   * repeated.
   */
  static final TokenizedText LONG_PROBE = repeated(70);

  /** The same for graphs whose window is shorter than {@link #LONG_PROBE}. */
  static final TokenizedText SHORT_WINDOW_PROBE = repeated(8);

  private static TokenizedText repeated(int length) {
    long[] ids = new long[length];
    for (int i = 0; i < length; i++) {
      ids[i] = 1003 + i % 8;
    }
    return new TokenizedText(ids, false);
  }

  /**
   * Runs the probe: the short text alone, then padded beside {@link #LONG_PROBE}, or beside {@link
   * #SHORT_WINDOW_PROBE} where the graph cannot take 70 tokens (and so never sees batches that long).
   *
   * @param run one model run: a batch of tokenised texts to one vector each
   */
  public static BatchInvariance probe(Function<List<TokenizedText>, float[][]> run) {
    float[] alone = run.apply(List.of(SHORT_PROBE))[0];
    float[] batched;
    try {
      batched = run.apply(List.of(SHORT_PROBE, LONG_PROBE))[0];
    } catch (InferenceException e) {
      batched = run.apply(List.of(SHORT_PROBE, SHORT_WINDOW_PROBE))[0];
    }
    return new BatchInvariance(alone.length, VectorUtil.cosine(alone, batched) >= SAME_VECTOR);
  }
}
