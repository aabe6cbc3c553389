package org.embeddinggemma.engine;

/**
 * Keeps the first {@code dims} components of a vector and re-normalises the result to unit length.
 *
 * <p>EmbeddingGemma is trained with Matryoshka representation learning: its 768-dim vectors can be
 * cut to 512, 256 or 128 dims with little loss. A prefix of a unit vector is no longer a unit
 * vector, so it is normalised again; cosine and dot-product similarity then agree.
 */
public final class MatryoshkaTruncation {

  private final int dims;

  /**
   * @param dims how many leading components to keep; at least 1
   * @throws IllegalArgumentException if {@code dims < 1}
   */
  public MatryoshkaTruncation(int dims) {
    if (dims < 1) {
      throw new IllegalArgumentException("dims must be at least 1, got " + dims);
    }
    this.dims = dims;
  }

  /** The number of components this truncation keeps. */
  public int dims() {
    return dims;
  }

  /**
   * Returns a new unit vector made of the first {@link #dims()} components of {@code vector}.
   *
   * @throws IllegalArgumentException if the vector is shorter than {@link #dims()}
   * @throws IllegalStateException if those components are all zero, so no direction is left
   */
  public float[] apply(float[] vector) {
    if (vector.length < dims) {
      throw new IllegalArgumentException(
          "cannot truncate a vector of " + vector.length + " dims to " + dims + " dims");
    }
    double squares = 0;
    for (int i = 0; i < dims; i++) {
      squares += (double) vector[i] * vector[i];
    }
    if (squares == 0 || Double.isNaN(squares) || Double.isInfinite(squares)) {
      throw new IllegalStateException(
          "the first " + dims + " dims of the vector have norm " + Math.sqrt(squares)
              + "; cannot normalise them");
    }
    double norm = Math.sqrt(squares);
    float[] truncated = new float[dims];
    for (int i = 0; i < dims; i++) {
      truncated[i] = (float) (vector[i] / norm);
    }
    return truncated;
  }
}
