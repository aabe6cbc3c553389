package org.embeddinggemma.lucene;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.join.BitSetProducer;
import org.apache.lucene.search.join.DiversifyingChildrenByteKnnVectorQuery;
import org.apache.lucene.search.join.DiversifyingChildrenFloatKnnVectorQuery;
import org.apache.lucene.search.join.QueryBitSetProducer;
import org.apache.lucene.search.join.ScoreMode;
import org.apache.lucene.search.join.ToParentBlockJoinQuery;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextChunker;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * Long texts as Lucene document blocks, the layout of Elasticsearch's {@code nested} fields: one
 * child document per passage (its vector and its offsets in the text), then the parent. Queries
 * find the best passage of each document ({@link #passagesQuery}) or documents scored by their
 * best passage ({@link #documentsQuery}). Add each block with {@link
 * org.apache.lucene.index.IndexWriter#addDocuments} so that it stays together.
 */
public final class PassageBlocks {

  /** Marks parent documents: {@value} is {@code "parent"} on them and absent on passages. */
  public static final String PARENT_FIELD = "_block_parent";
  /** Stored on each passage: its start offset in the text (UTF-16). */
  public static final String START_FIELD = "passage_start";
  /** Stored on each passage: its end offset in the text (UTF-16). */
  public static final String END_FIELD = "passage_end";

  private final TextEmbedder embedder;
  private final TextChunker chunker;
  private final String vectorField;
  private final int dims;
  private final VectorEncoding encoding;
  private final BitSetProducer parents = new QueryBitSetProducer(new TermQuery(new Term(PARENT_FIELD, "parent")));

  /**
   * @param chunker how texts are split; its model must be {@code embedder}
   * @param vectorField the passages' vector field
   * @throws IllegalArgumentException if {@code dims} is out of range
   */
  public PassageBlocks(TextEmbedder embedder, TextChunker chunker, String vectorField, int dims, VectorEncoding encoding) {
    this.embedder = Objects.requireNonNull(embedder, "embedder must not be null");
    this.chunker = Objects.requireNonNull(chunker, "chunker must not be null");
    this.vectorField = Objects.requireNonNull(vectorField, "vectorField must not be null");
    this.encoding = Objects.requireNonNull(encoding, "encoding must not be null");
    this.dims = TextVectorFields.checkDims(embedder, dims);
  }

  /**
   * The block of one text: a passage document per passage, then {@code parent} (marked as the
   * parent), all passages embedded together with {@code prompt} and {@code title}.
   *
   * @throws IllegalArgumentException as {@link TextChunker#chunk} does
   */
  public List<Document> block(Document parent, String text, PromptTemplate prompt, String title) {
    TextChunker.Chunks chunks = chunker.chunk(text, prompt, title);
    List<Embedding> embeddings = embedder.embed(chunks.inputs(text, prompt, title), dims);
    List<Document> block = new ArrayList<>(embeddings.size() + 1);
    for (int i = 0; i < embeddings.size(); i++) {
      Document passage = new Document();
      passage.add(TextVectorFields.toField(vectorField, embeddings.get(i), encoding));
      passage.add(new StoredField(START_FIELD, chunks.passages().get(i).start()));
      passage.add(new StoredField(END_FIELD, chunks.passages().get(i).end()));
      block.add(passage);
    }
    parent.add(new StringField(PARENT_FIELD, "parent", Field.Store.NO));
    block.add(parent);
    return block;
  }

  /** Which documents are parents, for block-join queries of one's own. */
  public BitSetProducer parentsFilter() {
    return parents;
  }

  /**
   * The best passage of each of the {@code k} documents nearest to {@code text}: hits are passage
   * documents; the parent of a hit is the next parent document in its segment. As with any HNSW
   * search, a larger {@code k} explores more of the graph, and a document's best passage is only
   * found if the search reaches it: ask for several times as many as you show (Elasticsearch's
   * {@code num_candidates}); with 24 documents of about 28 passages each in one segment, {@code k}
   * 100 found the right document for 39 of 49 questions and 300 for all 44 that an exact search finds.
   */
  public Query passagesQuery(String text, int k) {
    Embedding query = embedQuery(text, k);
    return encoding == VectorEncoding.BYTE
        ? new DiversifyingChildrenByteKnnVectorQuery(vectorField, query.int8Vector(), null, k, parents)
        : new DiversifyingChildrenFloatKnnVectorQuery(vectorField, query.vector(), null, k, parents);
  }

  /** The {@code k} documents nearest to {@code text}, each scored by its best passage. */
  public Query documentsQuery(String text, int k) {
    return new ToParentBlockJoinQuery(passagesQuery(text, k), parents, ScoreMode.Max);
  }

  private Embedding embedQuery(String text, int k) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    return embedder.embed(EmbeddingInput.of(text, embedder.prompt(Task.QUERY)), dims);
  }
}
