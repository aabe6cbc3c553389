package org.embeddinggemma.engine;

/**
 * The token ids of one text, special tokens included.
 *
 * @param ids the token ids fed to the model
 * @param truncated whether tokens were dropped to fit the model's maximum sequence length
 */
public record TokenizedText(long[] ids, boolean truncated) {

  /** The number of tokens. */
  public int length() {
    return ids.length;
  }
}
