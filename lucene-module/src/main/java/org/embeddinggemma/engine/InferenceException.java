package org.embeddinggemma.engine;

/**
 * ONNX Runtime failed to run the graph on a batch. The message names the batch, the graph and the
 * native failure in full; {@link #reason()} says what failed in plain words.
 */
public final class InferenceException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  private final String reason;

  /**
   * @param message the full description, for logs
   * @param reason the same in plain words: no paths, class names or native source locations
   */
  public InferenceException(String message, String reason, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** What failed, in plain words. */
  public String reason() {
    return reason;
  }
}
