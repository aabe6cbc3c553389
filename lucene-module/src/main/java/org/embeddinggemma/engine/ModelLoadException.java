package org.embeddinggemma.engine;

/**
 * A model directory cannot be used: a file is missing or unreadable, the graph does not have the
 * inputs and outputs an embedding model needs, or a native library failed to load.
 *
 * <p>The message says what was found and how to fix it, and describes the cause in full (class
 * names and native source locations included, for logs and command-line users); {@link #reason()}
 * says the same in plain words for the clients of a service. Native and linkage {@link Error}s met
 * while loading become this exception too, so that a broken model never takes its host down with
 * it. Such an error is described in the message and not kept as the cause: Elasticsearch looks
 * through causes for {@code Error}s and stops the node when it finds one.
 */
public final class ModelLoadException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String reason;

  /** A failure described by {@code message}. */
  public ModelLoadException(String message) {
    super(message);
    this.reason = message;
  }

  /** A failure described by {@code message}, caused by {@code cause} (kept only if not an {@link Error}). */
  public ModelLoadException(String message, Throwable cause) {
    super(message + ": " + describe(cause), cause instanceof Error ? null : cause);
    this.reason = message + ": " + NativeErrors.plainReason(cause);
  }

  /**
   * What is wrong, the cause in plain words: no class names, no native source locations. File
   * paths are as in {@link #getMessage()}.
   */
  public String reason() {
    return reason;
  }

  /** A throwable and its causes on one line, for messages that cannot carry the throwable itself. */
  public static String describe(Throwable throwable) {
    StringBuilder description = new StringBuilder();
    int depth = 0;
    for (Throwable t = throwable; t != null && depth < 5; t = t.getCause(), depth++) {
      description.append(depth == 0 ? "" : "; caused by ").append(t);
    }
    return description.toString();
  }
}
