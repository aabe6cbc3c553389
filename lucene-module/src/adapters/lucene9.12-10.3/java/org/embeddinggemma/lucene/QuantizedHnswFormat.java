package org.embeddinggemma.lucene;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;

/**
 * The HNSW format for float fields in Lucene 9.12 to 10.3 (Elasticsearch 8.19 to 9.3): the {@code
 * lucene99} scalar-quantised format, which Lucene 10.4 moved to its backward codecs.
 */
final class QuantizedHnswFormat {

  /** The name a segment records for fields in this format. */
  static final String NAME = Lucene99HnswScalarQuantizedVectorsFormat.NAME;

  private QuantizedHnswFormat() {}

  static KnnVectorsFormat create(int maxConn, int beamWidth) {
    return new Lucene99HnswScalarQuantizedVectorsFormat(maxConn, beamWidth);
  }
}
