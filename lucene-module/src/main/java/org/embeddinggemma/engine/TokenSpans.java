package org.embeddinggemma.engine;

/**
 * Where a text's tokens lie in it: token {@code i} covers {@code text.substring(starts[i],
 * ends[i])}, in UTF-16 code units; starts never decrease.
 *
 * @param starts start offset of each token
 * @param ends end offset of each token
 */
public record TokenSpans(int[] starts, int[] ends) {

  /**
   * @throws IllegalArgumentException if the arrays differ in length
   */
  public TokenSpans {
    if (starts.length != ends.length) {
      throw new IllegalArgumentException("starts and ends must be as long, got " + starts.length + " and " + ends.length);
    }
  }

  /** The number of tokens. */
  public int size() {
    return starts.length;
  }
}
