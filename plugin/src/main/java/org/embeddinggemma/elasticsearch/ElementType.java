package org.embeddinggemma.elasticsearch;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.embeddinggemma.engine.Embedding;

/**
 * The kind of vector written, matching the {@code element_type} of a {@code dense_vector} field.
 */
public enum ElementType {
  /** int8 values in [-127, 127] for {@code element_type: byte} with cosine similarity. */
  BYTE,
  /** Unit-length floats for {@code element_type: float} ({@code int8_hnsw}, {@code bbq_hnsw}, ...). */
  FLOAT;

  /** The name used in requests: {@code byte} or {@code float}. */
  public String externalName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException if the name is not {@code byte} or {@code float}
   */
  public static ElementType fromName(String name) {
    for (ElementType type : values()) {
      if (type.externalName().equals(name)) {
        return type;
      }
    }
    throw new IllegalArgumentException("unknown element_type [" + name + "]; expected one of [byte, float]");
  }

  /** The vector as a list, for an ingest document or a response. */
  public List<Number> toList(Embedding embedding) {
    List<Number> values = new ArrayList<>(embedding.dims());
    if (this == BYTE) {
      for (byte value : embedding.int8Vector()) {
        values.add((int) value);
      }
    } else {
      for (float value : embedding.vector()) {
        values.add(value);
      }
    }
    return values;
  }

  /** The vector as floats, for a query vector; whole numbers for {@link #BYTE}. */
  public float[] toFloats(Embedding embedding) {
    if (this == FLOAT) {
      return embedding.vector();
    }
    byte[] bytes = embedding.int8Vector();
    float[] values = new float[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      values[i] = bytes[i];
    }
    return values;
  }
}
