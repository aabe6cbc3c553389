package org.embeddinggemma.engine;

/**
 * One text cannot be embedded as it is: it makes no tokens of its own, or more passages than
 * allowed. {@link #reason()} says why without naming the text, so that each caller names it in
 * its own words ({@code field [body]}, {@code [texts][3]}, {@code [model_text]}).
 */
public final class TextRejectedException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final int index;
  private final String reason;

  /**
   * @param index the text's position among the inputs of the call that failed, or -1 if the call
   *     had one text
   * @param reason what is wrong with it, as a predicate: {@code has nothing to embed: it makes no tokens}
   */
  public TextRejectedException(int index, String reason) {
    super("text " + (index < 0 ? "" : "[" + index + "] ") + reason);
    this.index = index;
    this.reason = reason;
  }

  /** The text's position among the inputs of the call, or -1 if it had one text. */
  public int index() {
    return index;
  }

  /** What is wrong with the text, without naming it. */
  public String reason() {
    return reason;
  }

  /** The same rejection for the text at {@code index} of a larger call. */
  public TextRejectedException at(int index) {
    return new TextRejectedException(index, reason);
  }

  /** A text whose tokenisation holds nothing but the model's special tokens. */
  static TextRejectedException noTokens(int index) {
    return new TextRejectedException(index, "has nothing to embed: it makes no tokens");
  }
}
