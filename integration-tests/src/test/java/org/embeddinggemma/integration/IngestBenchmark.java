package org.embeddinggemma.integration;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;

/**
 * On a real node: documents per second through the {@code embedding_gemma} processor with the
 * plugin's per-model micro-batching ({@code embedding_gemma.max_batch_size: 16}) against the same
 * bulk with batching off ({@code max_batch_size: 1}) and against the engine alone in this JVM; and
 * the latency of kNN searches whose query text is embedded by the query vector builder against the
 * same searches given the vector. Run with {@code bin/benchmark}; prints the ratios.
 */
public final class IngestBenchmark {

  private IngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int copies = 4;
    List<Corpus.Sentence> sentences = new ArrayList<>();
    for (int copy = 0; copy < copies; copy++) {
      for (Corpus.Sentence s : Corpus.sentences()) {
        sentences.add(new Corpus.Sentence(s.id() + "-" + copy, s.topic(), s.text()));
      }
    }
    Path model = TestModels.miniLmFloat();
    System.out.printf("documents: %d (the corpus %d times); model: MiniLM fp32, 384 dims; best of %d rounds%n", sentences.size(), copies, rounds);
    double batched = ingest(model, 16, sentences, rounds, true);
    double unbatched = ingest(model, 1, sentences, rounds, false);
    double engine = engineAlone(model, sentences, rounds);
    System.out.printf("ingest, max_batch_size 16: %7.1f docs/s | ingest, max_batch_size 1: %7.1f docs/s | ratio %.2fx%n", batched, unbatched, batched / unbatched);
    System.out.printf("engine alone in one JVM, batches of 16: %7.1f texts/s | ingest with batching reaches %.0f%% of it%n", engine, 100 * batched / engine);
  }

  private static double ingest(Path model, int maxBatchSize, List<Corpus.Sentence> sentences, int rounds, boolean measureSearch)
      throws Exception {
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start(
            "bench-" + maxBatchSize, 1, Map.of("minilm", model),
            Map.of("embedding_gemma.default_model", "minilm", "embedding_gemma.max_batch_size", Integer.toString(maxBatchSize)))) {
      cluster.createEmbeddingPipeline("bench");
      double best = 0;
      for (int round = 0; round <= rounds; round++) {
        String index = "bench-" + round;
        cluster.createByteVectorIndex(index, 384, "{}");
        String body = SingleNodeIT.bulk(index, sentences);
        long start = System.nanoTime();
        JsonObject response = cluster.request("POST", "/_bulk?pipeline=bench", body).json();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (response.get("errors").getAsBoolean()) {
          throw new IllegalStateException("bulk failed: " + response);
        }
        if (round > 0) { // round 0 warms the model and the JIT
          best = Math.max(best, sentences.size() / seconds);
        }
      }
      if (measureSearch) {
        cluster.request("POST", "/bench-0/_refresh", null);
        searchLatency(cluster, "bench-0");
      }
      return best;
    }
  }

  /** Mean latency of the corpus queries, embedded by the builder against given as vectors. */
  private static void searchLatency(ElasticsearchCluster cluster, String index) {
    List<Corpus.Query> queries = Corpus.queries();
    List<String> vectors = new ArrayList<>();
    for (Corpus.Query query : queries) {
      JsonObject embedded = cluster.request("POST", "/_embedding_gemma/_embed",
          "{\"texts\": [" + SingleNodeIT.json(query.query()) + "], \"task\": \"query\"}").json();
      vectors.add(embedded.getAsJsonArray("embeddings").get(0).getAsJsonObject().getAsJsonArray("vector").toString());
    }
    int repeats = 5;
    long builderNanos = 0;
    long vectorNanos = 0;
    for (int repeat = 0; repeat <= repeats; repeat++) {
      for (int i = 0; i < queries.size(); i++) {
        String withBuilder = """
            {"knn": {"field": "vector", "k": 10, "num_candidates": 50,
                     "query_vector_builder": {"embedding_gemma": {"model_text": %s}}}, "_source": false}""".formatted(SingleNodeIT.json(queries.get(i).query()));
        String withVector = """
            {"knn": {"field": "vector", "k": 10, "num_candidates": 50, "query_vector": %s}, "_source": false}""".formatted(vectors.get(i));
        long start = System.nanoTime();
        cluster.request("POST", "/" + index + "/_search", withBuilder);
        long middle = System.nanoTime();
        cluster.request("POST", "/" + index + "/_search", withVector);
        long end = System.nanoTime();
        if (repeat > 0) { // the first pass warms caches and the JIT
          builderNanos += middle - start;
          vectorNanos += end - middle;
        }
      }
    }
    double builderMs = builderNanos / 1e6 / (repeats * queries.size());
    double vectorMs = vectorNanos / 1e6 / (repeats * queries.size());
    System.out.printf(
        "knn search, query_vector given: %5.2f ms | with query_vector_builder (text embedded in the node): %5.2f ms | embedding adds %.2f ms (%.2fx)%n",
        vectorMs, builderMs, builderMs - vectorMs, builderMs / vectorMs);
  }

  private static double engineAlone(Path model, List<Corpus.Sentence> sentences, int rounds) {
    int threads = Runtime.getRuntime().availableProcessors();
    try (TextEmbedder embedder = TextEmbedder.open(model, new EmbedderSettings(threads, 16))) {
      List<EmbeddingInput> inputs = sentences.stream().map(s -> EmbeddingInput.of(s.text(), PromptTemplate.NONE)).toList();
      double best = 0;
      for (int round = 0; round <= rounds; round++) {
        long start = System.nanoTime();
        embedder.embed(inputs, embedder.modelDims());
        if (round > 0) {
          best = Math.max(best, sentences.size() / ((System.nanoTime() - start) / 1e9));
        }
      }
      return best;
    }
  }
}
