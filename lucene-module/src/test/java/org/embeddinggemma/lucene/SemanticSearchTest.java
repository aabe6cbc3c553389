package org.embeddinggemma.lucene;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** 240 real sentences indexed with the int8 MiniLM; questions in other words find the right one. */
class SemanticSearchTest {

  static TextEmbedder embedder;
  static Directory directory;
  static DirectoryReader reader;
  static final int DIMS = 384;
  static final int TRUNCATED_DIMS = 256;

  @BeforeAll
  static void index() throws IOException {
    embedder = TextEmbedder.open(TestModels.miniLm(), new EmbedderSettings(2, 16));
    List<Corpus.Sentence> sentences = Corpus.sentences();
    List<EmbeddingInput> inputs = sentences.stream().map(s -> EmbeddingInput.of(s.text(), PromptTemplate.NONE)).toList();
    List<Field> bytes = new TextVectorFields(embedder, DIMS, VectorEncoding.BYTE).createFields("bytes", inputs);
    List<Field> floats = new TextVectorFields(embedder, DIMS, VectorEncoding.FLOAT32).createFields("floats", inputs);
    List<Field> truncated = new TextVectorFields(embedder, TRUNCATED_DIMS, VectorEncoding.BYTE).createFields("bytes_256", inputs);
    directory = new ByteBuffersDirectory();
    IndexWriterConfig config = new IndexWriterConfig();
    config.setCodec(
        HnswVectorCodec.create(
            Map.of("bytes", VectorEncoding.BYTE, "floats", VectorEncoding.FLOAT32, "bytes_256", VectorEncoding.BYTE)));
    try (IndexWriter writer = new IndexWriter(directory, config)) {
      for (int i = 0; i < sentences.size(); i++) {
        Document doc = new Document();
        doc.add(new StringField("id", sentences.get(i).id(), Field.Store.YES));
        doc.add(new StringField("topic", sentences.get(i).topic(), Field.Store.NO));
        doc.add(new StoredField("text", sentences.get(i).text()));
        doc.add(bytes.get(i));
        doc.add(floats.get(i));
        doc.add(truncated.get(i));
        writer.addDocument(doc);
      }
    }
    reader = DirectoryReader.open(directory);
  }

  @AfterAll
  static void close() throws IOException {
    reader.close();
    directory.close();
    embedder.close();
  }

  @Test
  void byteVectorsPutTheRightSentenceFirst() throws IOException {
    assertQueriesFindTheirSentence("bytes", new TextKnnQueries(embedder, DIMS, VectorEncoding.BYTE));
  }

  @Test
  void floatVectorsPutTheRightSentenceFirst() throws IOException {
    assertQueriesFindTheirSentence("floats", new TextKnnQueries(embedder, DIMS, VectorEncoding.FLOAT32));
  }

  @Test
  void matryoshkaTruncatedByteVectorsStillFindTheRightSentence() throws IOException {
    assertQueriesFindTheirSentence("bytes_256", new TextKnnQueries(embedder, TRUNCATED_DIMS, VectorEncoding.BYTE));
  }

  @Test
  void filterRestrictsHitsToMatchingDocuments() throws IOException {
    IndexSearcher searcher = new IndexSearcher(reader);
    TextKnnQueries queries = new TextKnnQueries(embedder, DIMS, VectorEncoding.BYTE);
    TopDocs hits = searcher.search(queries.create("bytes", "which planet has a huge storm", 5, new TermQuery(new Term("topic", "music"))), 5);
    assertEquals(5, hits.scoreDocs.length);
    for (ScoreDoc hit : hits.scoreDocs) {
      assertTrue(idOf(searcher, hit).startsWith("music-"), idOf(searcher, hit));
    }
  }

  @Test
  void dimsBeyondTheModelAreRefused() {
    IllegalArgumentException fields =
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new TextVectorFields(embedder, 385, VectorEncoding.BYTE));
    assertEquals("dims must be between 1 and 384, got 385", fields.getMessage());
    IllegalArgumentException queries =
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new TextKnnQueries(embedder, 0, VectorEncoding.FLOAT32));
    assertEquals("dims must be between 1 and 384, got 0", queries.getMessage());
  }

  @Test
  void codecStoresEachFieldInItsHnswFormat() {
    for (LeafReaderContext leaf : reader.leaves()) {
      FieldInfo bytes = leaf.reader().getFieldInfos().fieldInfo("bytes");
      FieldInfo floats = leaf.reader().getFieldInfos().fieldInfo("floats");
      assertEquals("Lucene99HnswVectorsFormat", bytes.getAttribute(PerFieldKnnVectorsFormat.PER_FIELD_FORMAT_KEY));
      // Lucene 10.4 kept the binary-quantised format's SPI name for the 8-bit scalar one.
      assertEquals(QuantizedHnswFormat.NAME, floats.getAttribute(PerFieldKnnVectorsFormat.PER_FIELD_FORMAT_KEY));
      assertEquals(VectorEncoding.BYTE, bytes.getVectorEncoding());
      assertEquals(DIMS, bytes.getVectorDimension());
    }
  }

  private static void assertQueriesFindTheirSentence(String field, TextKnnQueries queries) throws IOException {
    IndexSearcher searcher = new IndexSearcher(reader);
    List<String> misses = new ArrayList<>();
    int inTopThree = 0;
    List<Corpus.Query> all = Corpus.queries();
    for (Corpus.Query query : all) {
      TopDocs hits = searcher.search(queries.create(field, query.query(), 10), 10);
      assertEquals(10, hits.scoreDocs.length);
      String first = idOf(searcher, hits.scoreDocs[0]);
      if (!first.equals(query.expected())) {
        misses.add(query.query() + " -> " + first + " (expected " + query.expected() + ")");
      }
      for (int i = 0; i < 3; i++) {
        if (idOf(searcher, hits.scoreDocs[i]).equals(query.expected())) {
          inTopThree++;
        }
      }
    }
    System.out.printf("%s: %d/%d first, %d/%d in top 3; misses %s%n", field, all.size() - misses.size(), all.size(), inTopThree, all.size(), misses);
    assertTrue(misses.size() <= all.size() / 10, "more than 10% of queries miss: " + misses);
    assertTrue(inTopThree >= all.size() - 1, "in top 3: " + inTopThree + " of " + all.size());
  }

  private static String idOf(IndexSearcher searcher, ScoreDoc hit) throws IOException {
    return searcher.storedFields().document(hit.doc).get("id");
  }
}
