package org.embeddinggemma.elasticsearch;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * One loaded copy of a model, shared by the requests that use it and closed, with everything
 * native it holds, when the last of them lets it go.
 *
 * <p>The {@link ModelHandle} that loaded it holds the first reference; each request {@link
 * #tryAcquire() acquires} one and {@link #release() releases} it when done. A reload replaces the
 * handle's copy and releases the handle's reference, so work in flight finishes on the old copy,
 * which closes once that work is done. Closing the engine closes the ONNX Runtime session and the
 * native tokenizer and returns the freed native memory to the operating system.
 */
public final class LoadedModel {

  private final TextEmbedder embedder;
  private final AtomicInteger references = new AtomicInteger(1);

  /** A copy whose only reference is its loader's. */
  public LoadedModel(TextEmbedder embedder) {
    this.embedder = Objects.requireNonNull(embedder, "embedder must not be null");
  }

  /** The engine; use it only between {@link #tryAcquire()} and {@link #release()}. */
  public TextEmbedder embedder() {
    return embedder;
  }

  /** Takes a reference, unless the copy is already closed or closing. */
  public boolean tryAcquire() {
    for (int count = references.get(); count > 0; count = references.get()) {
      if (references.compareAndSet(count, count + 1)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Lets go of a reference; the last one closes the copy.
   *
   * @throws IllegalStateException if every reference was already released
   */
  public void release() {
    int left = references.decrementAndGet();
    if (left == 0) {
      embedder.close();
    } else if (left < 0) {
      throw new IllegalStateException("model copy released more often than acquired");
    }
  }

  /** Whether the copy has been closed: its last reference is gone. */
  public boolean closed() {
    return references.get() <= 0;
  }
}
