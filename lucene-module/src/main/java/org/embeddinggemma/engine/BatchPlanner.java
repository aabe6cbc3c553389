package org.embeddinggemma.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts texts into model runs: sorted by length, so that a run pads little, and cut where a run
 * would hold more than {@link #maxBatchSize()} texts or more than {@link #tokenBudget()} padded
 * tokens (texts × the longest text's tokens).
 *
 * <p>The budget bounds a run's memory: a graph's activations grow with its padded tokens, and an
 * attention layer's scores with padded tokens × the longest text (at 8,192 tokens, about 1 GiB per
 * text and layer in fp32). A text longer than the budget runs alone. Instances are immutable.
 */
public final class BatchPlanner {

  /** Padded tokens per run when none is configured: one text of 8,192 tokens, or 16 of 512. */
  public static final int DEFAULT_TOKEN_BUDGET = 8192;

  private final int maxBatchSize;
  private final int tokenBudget;

  /**
   * @param maxBatchSize the most texts in one run; at least 1
   * @param tokenBudget the most padded tokens in one run; at least 1
   * @throws IllegalArgumentException if a value is below 1
   */
  public BatchPlanner(int maxBatchSize, int tokenBudget) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
    }
    if (tokenBudget < 1) {
      throw new IllegalArgumentException("tokenBudget must be at least 1, got " + tokenBudget);
    }
    this.maxBatchSize = maxBatchSize;
    this.tokenBudget = tokenBudget;
  }

  /** The most texts in one run. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** The most padded tokens (texts × longest text) in one run, unless one text alone is longer. */
  public int tokenBudget() {
    return tokenBudget;
  }

  /**
   * Plans the runs of tokenised texts.
   *
   * @see #plan(int[])
   */
  public List<int[]> plan(List<TokenizedText> texts) {
    int[] lengths = new int[texts.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = texts.get(i).length();
    }
    return plan(lengths);
  }

  /**
   * Plans the runs of texts of the given lengths.
   *
   * @param lengths each text's length, in tokens or in anything that grows with them
   * @return the runs, shortest texts first; each run holds indices into {@code lengths}, in
   *     ascending order of length; every index is in exactly one run
   */
  public List<int[]> plan(int[] lengths) {
    Integer[] order = new Integer[lengths.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    // Stable: texts of one length keep their order, so a plan is the same for the same input.
    Arrays.sort(order, Comparator.comparingInt(i -> lengths[i]));
    List<int[]> runs = new ArrayList<>();
    int start = 0;
    while (start < order.length) {
      int end = start + 1;
      // Sorted ascending, so the text being added is the longest: it sets the padded length.
      while (end < order.length
          && end - start < maxBatchSize
          && (long) (end - start + 1) * lengths[order[end]] <= tokenBudget) {
        end++;
      }
      int[] run = new int[end - start];
      for (int k = start; k < end; k++) {
        run[k - start] = order[k];
      }
      runs.add(run);
      start = end;
    }
    return runs;
  }

  @Override
  public String toString() {
    return "BatchPlanner[maxBatchSize=" + maxBatchSize + ", tokenBudget=" + tokenBudget + "]";
  }
}
