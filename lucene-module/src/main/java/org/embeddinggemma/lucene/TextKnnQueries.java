package org.embeddinggemma.lucene;

import java.util.Objects;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.search.KnnByteVectorQuery;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * Makes kNN queries from text: the text is embedded with the model's query prompt ({@link
 * Task#QUERY}, {@code task: search result | query: }) unless another prompt is given, with the
 * dims and encoding of the {@link TextVectorFields} that indexed the documents.
 */
public final class TextKnnQueries {

  private final TextEmbedder embedder;
  private final int dims;
  private final VectorEncoding encoding;
  private final PromptTemplate prompt;

  /** Queries with the model's {@link Task#QUERY} prompt. */
  public TextKnnQueries(TextEmbedder embedder, int dims, VectorEncoding encoding) {
    this(embedder, dims, encoding, embedder.prompt(Task.QUERY));
  }

  /**
   * @param prompt the prompt put before query texts
   * @throws IllegalArgumentException if {@code dims} is out of range
   */
  public TextKnnQueries(TextEmbedder embedder, int dims, VectorEncoding encoding, PromptTemplate prompt) {
    this.embedder = Objects.requireNonNull(embedder, "embedder must not be null");
    this.encoding = Objects.requireNonNull(encoding, "encoding must not be null");
    this.prompt = Objects.requireNonNull(prompt, "prompt must not be null");
    this.dims = TextVectorFields.checkDims(embedder, dims);
  }

  /** The {@code k} nearest documents to {@code text} in {@code field}. */
  public Query create(String field, String text, int k) {
    return create(field, text, k, null);
  }

  /**
   * The {@code k} nearest documents to {@code text} in {@code field} among those matching {@code
   * filter}.
   *
   * @param filter a pre-filter, or {@code null} for none
   * @throws IllegalArgumentException if {@code k} is below 1 or the text is blank
   */
  public Query create(String field, String text, int k, Query filter) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    Embedding embedding = embedder.embed(EmbeddingInput.of(text, prompt), dims);
    return encoding == VectorEncoding.BYTE
        ? new KnnByteVectorQuery(field, embedding.int8Vector(), k, filter)
        : new KnnFloatVectorQuery(field, embedding.vector(), k, filter);
  }
}
