package org.embeddinggemma.lucene;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104HnswScalarQuantizedVectorsFormat;

/**
 * The HNSW format for float fields in Lucene 10.4 and later (Elasticsearch 9.5), where {@code
 * lucene104} replaced the {@code lucene99} scalar-quantised format.
 */
final class QuantizedHnswFormat {

  /** The name a segment records for fields in this format. */
  static final String NAME = Lucene104HnswScalarQuantizedVectorsFormat.NAME;

  private QuantizedHnswFormat() {}

  static KnnVectorsFormat create(int maxConn, int beamWidth) {
    return new Lucene104HnswScalarQuantizedVectorsFormat(maxConn, beamWidth);
  }
}
