package org.embeddinggemma.lucene;

import java.util.Map;
import java.util.stream.Collectors;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.FilterCodec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.index.VectorEncoding;

/**
 * A codec that stores the given vector fields in HNSW graphs: byte fields with {@link
 * Lucene99HnswVectorsFormat} (already int8, nothing to quantise), float fields with the Lucene
 * line's scalar-quantised HNSW format ({@code lucene99} up to Lucene 10.3, {@code lucene104} from
 * 10.4: the graph is searched on quantised copies, the float vectors are kept for exact rescoring).
 * Other fields get the default codec's formats.
 *
 * <p>The codec wraps the default codec under its name, so indexes it writes open with a plain {@code
 * DirectoryReader}: per-field formats are recorded in the index and found by name. Wrapping, not
 * subclassing, keeps this class the same on every Lucene line: the default codec's class is renamed
 * with each one.
 */
public final class HnswVectorCodec {

  /** Lucene's default HNSW max connections per node. */
  public static final int DEFAULT_MAX_CONN = Lucene99HnswVectorsFormat.DEFAULT_MAX_CONN;

  /** Lucene's default HNSW beam width at index time. */
  public static final int DEFAULT_BEAM_WIDTH = Lucene99HnswVectorsFormat.DEFAULT_BEAM_WIDTH;

  private HnswVectorCodec() {}

  /** A codec with Lucene's default HNSW parameters. */
  public static Codec create(Map<String, VectorEncoding> vectorFields) {
    return create(vectorFields, DEFAULT_MAX_CONN, DEFAULT_BEAM_WIDTH);
  }

  /**
   * A codec for the given vector fields.
   *
   * @param vectorFields field name to the encoding of its vectors
   * @param maxConn HNSW max connections per node (Lucene's {@code M})
   * @param beamWidth HNSW candidates considered when inserting ({@code efConstruction})
   * @throws IllegalArgumentException if an HNSW parameter is out of Lucene's range
   */
  public static Codec create(Map<String, VectorEncoding> vectorFields, int maxConn, int beamWidth) {
    Map<String, KnnVectorsFormat> formats =
        vectorFields.entrySet().stream()
            .collect(
                Collectors.toUnmodifiableMap(
                    Map.Entry::getKey,
                    entry ->
                        entry.getValue() == VectorEncoding.BYTE
                            ? new Lucene99HnswVectorsFormat(maxConn, beamWidth)
                            : QuantizedHnswFormat.create(maxConn, beamWidth)));
    Codec defaultCodec = Codec.getDefault();
    PerFieldKnnVectorsFormat defaults = (PerFieldKnnVectorsFormat) defaultCodec.knnVectorsFormat();
    KnnVectorsFormat perField =
        new PerFieldKnnVectorsFormat() {
          @Override
          public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
            KnnVectorsFormat format = formats.get(field);
            return format != null ? format : defaults.getKnnVectorsFormatForField(field);
          }
        };
    return new FilterCodec(defaultCodec.getName(), defaultCodec) {
      @Override
      public KnnVectorsFormat knnVectorsFormat() {
        return perField;
      }
    };
  }
}
