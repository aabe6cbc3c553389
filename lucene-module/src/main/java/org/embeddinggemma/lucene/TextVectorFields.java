package org.embeddinggemma.lucene;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnByteVectorField;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * Makes kNN vector fields from text with a {@link TextEmbedder}.
 *
 * <p>{@link VectorEncoding#BYTE} fields hold the engine's int8 quantisation and are compared with
 * {@link VectorSimilarityFunction#COSINE}, because each vector has its own scale. {@link
 * VectorEncoding#FLOAT32} fields hold the unit-length float vector and use {@link
 * VectorSimilarityFunction#DOT_PRODUCT}, which equals cosine on unit vectors and is cheaper.
 * Queries made by {@link TextKnnQueries} with the same encoding and dims match these fields.
 */
public final class TextVectorFields {

  private final TextEmbedder embedder;
  private final int dims;
  private final VectorEncoding encoding;

  /**
   * @param embedder the model
   * @param dims the Matryoshka dims of the vectors, from 1 to {@link TextEmbedder#modelDims()}
   * @param encoding {@link VectorEncoding#BYTE} for int8 vectors or {@link VectorEncoding#FLOAT32}
   * @throws IllegalArgumentException if {@code dims} is out of range
   */
  public TextVectorFields(TextEmbedder embedder, int dims, VectorEncoding encoding) {
    this.embedder = Objects.requireNonNull(embedder, "embedder must not be null");
    this.encoding = Objects.requireNonNull(encoding, "encoding must not be null");
    this.dims = checkDims(embedder, dims);
  }

  static int checkDims(TextEmbedder embedder, int dims) {
    if (dims < 1 || dims > embedder.modelDims()) {
      throw new IllegalArgumentException(
          "dims must be between 1 and " + embedder.modelDims() + ", got " + dims);
    }
    return dims;
  }

  /** The similarity that fields of {@code encoding} are compared with. */
  public static VectorSimilarityFunction similarity(VectorEncoding encoding) {
    return encoding == VectorEncoding.BYTE
        ? VectorSimilarityFunction.COSINE
        : VectorSimilarityFunction.DOT_PRODUCT;
  }

  /** The vector field for one text; prefer {@link #createFields} for many. */
  public Field createField(String name, EmbeddingInput input) {
    return createFields(name, List.of(input)).get(0);
  }

  /** Vector fields for many texts, embedded in batches, in the order of {@code inputs}. */
  public List<Field> createFields(String name, List<EmbeddingInput> inputs) {
    List<Field> fields = new ArrayList<>(inputs.size());
    for (Embedding embedding : embedder.embed(inputs, dims)) {
      fields.add(toField(name, embedding, encoding));
    }
    return fields;
  }

  static Field toField(String name, Embedding embedding, VectorEncoding encoding) {
    return encoding == VectorEncoding.BYTE
        ? new KnnByteVectorField(name, embedding.int8Vector(), similarity(encoding))
        : new KnnFloatVectorField(name, embedding.vector(), similarity(encoding));
  }

  /** The dims of the vectors. */
  public int dims() {
    return dims;
  }

  /** The encoding of the vectors. */
  public VectorEncoding encoding() {
    return encoding;
  }
}
