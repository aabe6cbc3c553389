package org.embeddinggemma.engine;

/**
 * A model directory cannot be used: a file is missing or unreadable, the graph does not have the
 * inputs and outputs an embedding model needs, or a native library failed to load.
 *
 * <p>The message says what was found and how to fix it. Native and linkage {@link Error}s met while
 * loading are wrapped in this exception too, so that a broken model never takes its host (an
 * Elasticsearch node, say) down with it.
 */
public final class ModelLoadException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** A failure described by {@code message}. */
  public ModelLoadException(String message) {
    super(message);
  }

  /** A failure described by {@code message}, caused by {@code cause}. */
  public ModelLoadException(String message, Throwable cause) {
    super(message + ": " + cause, cause);
  }
}
