package org.embeddinggemma.engine;

/**
 * A part of a text, embedded on its own: {@code text.substring(start, end)}.
 *
 * @param start offset of its first character, in UTF-16 code units, as Java and Elasticsearch count
 * @param end offset after its last character
 * @param tokens how many tokens the model sees for it, prompt and special tokens included
 */
public record Passage(int start, int end, int tokens) {

  /** Its text, cut from the text it came from. */
  public String text(String text) {
    return text.substring(start, end);
  }
}
