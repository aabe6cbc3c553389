package org.embeddinggemma.integration;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.engine.ChunkingSettings;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextChunker;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.LongDocuments;
import org.embeddinggemma.testing.TestModels;

/**
 * On a real node: documents per second through the {@code embedding_gemma} processor with the
 * plugin's per-model micro-batching ({@code embedding_gemma.max_batch_size: 16}) against the same
 * bulk with batching off ({@code max_batch_size: 1}) and against the engine alone in this JVM; and
 * the latency of kNN searches whose query text is embedded by the query vector builder (new texts,
 * and repeated texts served by the query cache) against the same searches given the vector. With
 * {@code full-scale}, the same on the full-scale EmbeddingGemma graph (batched ingest only); with
 * {@code full-scale-w8a8}, on the W8A8 graph {@code bin/quantize} makes of it. Run with {@code
 * bin/benchmark}; prints the ratios.
 */
public final class IngestBenchmark {

  private IngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    String graph = args.length > 1 ? args[1] : "minilm";
    boolean fullScale = graph.startsWith("full-scale");
    int copies = fullScale ? 1 : 4;
    List<Corpus.Sentence> sentences = new ArrayList<>();
    for (int copy = 0; copy < copies; copy++) {
      for (Corpus.Sentence s : Corpus.sentences()) {
        sentences.add(new Corpus.Sentence(s.id() + "-" + copy, s.topic(), s.text()));
      }
    }
    Path model = graph.equals("full-scale-w8a8") ? TestModels.gemmaFullScaleW8A8() : fullScale ? TestModels.gemmaFullScale() : TestModels.miniLmFloat();
    int dims = fullScale ? 768 : 384;
    System.out.printf(
        "documents: %d (the corpus %d times); model: %s, %d dims; best of %d rounds%n",
        sentences.size(), copies, fullScale ? "full-scale EmbeddingGemma graph (" + graph + "), document prompt" : "MiniLM fp32", dims, rounds);
    double batched = ingest(model, dims, 16, sentences, rounds, true);
    if (!fullScale) {
      double unbatched = ingest(model, dims, 1, sentences, rounds, false);
      System.out.printf("ingest, max_batch_size 16: %7.1f docs/s | ingest, max_batch_size 1: %7.1f docs/s | ratio %.2fx%n", batched, unbatched, batched / unbatched);
    }
    double engine = engineAlone(model, sentences, rounds);
    System.out.printf(
        "ingest through the node: %7.1f docs/s | engine alone in one JVM, batches of 16: %7.1f texts/s | ingest reaches %.0f%% of it%n",
        batched, engine, 100 * batched / engine);
  }

  private static double ingest(Path model, int dims, int maxBatchSize, List<Corpus.Sentence> sentences, int rounds, boolean measureSearch)
      throws Exception {
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start(
            "bench-" + maxBatchSize, 1, Map.of("minilm", model),
            Map.of(
                "embedding_gemma.default_model", "minilm",
                "embedding_gemma.max_batch_size", Integer.toString(maxBatchSize),
                "embedding_gemma.preload_default_model", "false"))) {
      ElasticsearchCluster.Node node = cluster.nodes().get(0);
      long rssStarted = cluster.residentBytes(node);
      long loadStart = System.nanoTime();
      cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"load the model\"]}");
      double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      long rssLoaded = cluster.residentBytes(node);
      System.out.printf(
          "node RSS: %d MB started, %d MB with the model loaded (+%d MB, first _embed %.1f s)%n",
          rssStarted >> 20, rssLoaded >> 20, (rssLoaded - rssStarted) >> 20, loadSeconds);
      cluster.createEmbeddingPipeline("bench");
      double best = 0;
      for (int round = 0; round <= rounds; round++) {
        String index = "bench-" + round;
        cluster.createByteVectorIndex(index, dims, "{}");
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
      System.out.printf("node RSS after ingest: %d MB%n", cluster.residentBytes(node) >> 20);
      if (measureSearch) {
        cluster.request("POST", "/bench-0/_refresh", null);
        searchLatency(cluster, "bench-0");
        if (dims == 384) { // MiniLM; at full scale the long documents would take minutes per round
          longDocuments(cluster, model, dims, rounds);
        }
        memoryAcrossShapes(cluster, node);
      }
      return best;
    }
  }

  /**
   * Mean latency of the corpus queries given as vectors, embedded by the builder for the first time
   * (a text never seen: one model run), and embedded by the builder again (from the query cache).
   */
  private static void searchLatency(ElasticsearchCluster cluster, String index) {
    List<Corpus.Query> queries = Corpus.queries();
    List<String> vectors = new ArrayList<>();
    for (Corpus.Query query : queries) {
      JsonObject embedded = cluster.request("POST", "/_embedding_gemma/_embed",
          "{\"texts\": [" + SingleNodeIT.json(query.query()) + "], \"task\": \"query\"}").json();
      vectors.add(embedded.getAsJsonArray("embeddings").get(0).getAsJsonObject().getAsJsonArray("vector").toString());
    }
    int repeats = 5;
    long vectorNanos = 0;
    long missNanos = 0;
    long hitNanos = 0;
    long runsBefore = queriesEmbedded(cluster);
    for (int repeat = 0; repeat <= repeats; repeat++) {
      for (int i = 0; i < queries.size(); i++) {
        String builder = """
            {"knn": {"field": "vector", "k": 10, "num_candidates": 50,
                     "query_vector_builder": {"embedding_gemma": {"model_text": %s}}}, "_source": false}""";
        String withVector = """
            {"knn": {"field": "vector", "k": 10, "num_candidates": 50, "query_vector": %s}, "_source": false}""".formatted(vectors.get(i));
        long start = System.nanoTime();
        cluster.request("POST", "/" + index + "/_search", withVector);
        long vector = System.nanoTime();
        cluster.request("POST", "/" + index + "/_search", builder.formatted(SingleNodeIT.json(queries.get(i).query() + " (" + repeat + ")")));
        long miss = System.nanoTime();
        cluster.request("POST", "/" + index + "/_search", builder.formatted(SingleNodeIT.json(queries.get(i).query())));
        long hit = System.nanoTime();
        if (repeat > 0) { // the first pass warms the JIT and fills the cache with the repeated texts
          vectorNanos += vector - start;
          missNanos += miss - vector;
          hitNanos += hit - miss;
        }
      }
    }
    long runs = queriesEmbedded(cluster) - runsBefore;
    int searches = repeats * queries.size();
    double vectorMs = vectorNanos / 1e6 / searches;
    double missMs = missNanos / 1e6 / searches;
    double hitMs = hitNanos / 1e6 / searches;
    System.out.printf(
        "knn search, query_vector given: %5.2f ms | query_vector_builder, new text: %5.2f ms (+%.2f ms) | repeated text, from the cache: %5.2f ms (+%.2f ms)%n",
        vectorMs, missMs, missMs - vectorMs, hitMs, hitMs - vectorMs);
    System.out.printf(
        "model runs: %d for %d searches with new texts and %d with repeated ones (the %d repeated texts once each)%n",
        runs, (repeats + 1) * queries.size(), (repeats + 1) * queries.size(), queries.size());
  }

  /**
   * The 24 long documents through the processor with chunking (sentences, 128 tokens) against the
   * engine alone chunking and embedding the same documents: documents and passages per second.
   */
  private static void longDocuments(ElasticsearchCluster cluster, Path model, int dims, int rounds) {
    List<LongDocuments.Document> documents = LongDocuments.documents();
    cluster.request("PUT", "/_ingest/pipeline/long", """
        {"processors": [{"embedding_gemma": {"field": "body", "target_field": "passages", "chunking": {"max_tokens": 128}}}]}""");
    ChunkingSettings chunking = new ChunkingSettings(ChunkingSettings.Strategy.SENTENCE, 128, 1, 100, false);
    double nodeSeconds = Double.MAX_VALUE;
    for (int round = 0; round <= rounds; round++) {
      String index = "long-" + round;
      cluster.request("PUT", "/" + index, """
          {"mappings": {"properties": {"body": {"type": "text"}, "passages": {"type": "nested", "properties": {
             "vector": {"type": "dense_vector", "dims": %d, "element_type": "byte", "similarity": "cosine", "index_options": {"type": "hnsw"}},
             "text": {"type": "text", "index": false}}}}}}""".formatted(dims));
      StringBuilder bulk = new StringBuilder();
      for (LongDocuments.Document document : documents) {
        bulk.append("{\"index\": {\"_index\": \"").append(index).append("\"}}\n{\"body\": ").append(SingleNodeIT.json(document.text())).append("}\n");
      }
      long start = System.nanoTime();
      JsonObject response = cluster.request("POST", "/_bulk?pipeline=long", bulk.toString()).json();
      double seconds = (System.nanoTime() - start) / 1e9;
      if (response.get("errors").getAsBoolean()) {
        throw new IllegalStateException("bulk failed: " + response);
      }
      if (round > 0) {
        nodeSeconds = Math.min(nodeSeconds, seconds);
      }
    }
    int passages;
    double engineSeconds = Double.MAX_VALUE;
    try (TextEmbedder embedder = TextEmbedder.open(model, new EmbedderSettings(Runtime.getRuntime().availableProcessors(), 16))) {
      PromptTemplate prompt = embedder.takesTaskPrompts() ? embedder.prompt(Task.DOCUMENT) : PromptTemplate.NONE;
      TextChunker chunker = new TextChunker(embedder, chunking);
      passages = 0;
      for (int round = 0; round <= rounds; round++) {
        long start = System.nanoTime();
        List<EmbeddingInput> inputs = new ArrayList<>();
        for (LongDocuments.Document document : documents) {
          inputs.addAll(chunker.chunk(document.text(), prompt, null).inputs(document.text(), prompt, null));
        }
        embedder.embed(inputs, dims);
        passages = inputs.size();
        if (round > 0) {
          engineSeconds = Math.min(engineSeconds, (System.nanoTime() - start) / 1e9);
        }
      }
    }
    System.out.printf(
        "long documents (%d, %d passages of up to 128 tokens): processor %.2f docs/s, %.1f passages/s | engine alone (chunk and embed) %.1f passages/s | processor reaches %.0f%%%n",
        documents.size(), passages, documents.size() / nodeSeconds, passages / nodeSeconds, passages / engineSeconds, 100 * engineSeconds / nodeSeconds);
  }

  /**
   * Resident memory while the node embeds texts of random lengths up to the model's window, one per
   * request so that every text is a new input shape: it should level off, not grow with each shape.
   */
  private static void memoryAcrossShapes(ElasticsearchCluster cluster, ElasticsearchCluster.Node node) throws IOException {
    List<Corpus.Sentence> sentences = Corpus.sentences();
    java.util.Random random = new java.util.Random(42);
    StringBuilder report = new StringBuilder();
    int texts = 40;
    for (int i = 1; i <= texts; i++) {
      // About 4 characters per token: up to 8,000 characters, truncated at the window anyway.
      int characters = 1 + random.nextInt(8000);
      StringBuilder text = new StringBuilder();
      for (int k = random.nextInt(sentences.size()); text.length() < characters; k++) {
        text.append(sentences.get(k % sentences.size()).text()).append(' ');
      }
      cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [" + SingleNodeIT.json(text.substring(0, characters)) + "]}");
      if (i % 10 == 0) {
        report.append(report.isEmpty() ? "" : ", ").append(i).append(": ").append(cluster.residentBytes(node) >> 20).append(" MB");
      }
    }
    System.out.printf("node RSS after texts of random lengths up to the window, one per request: %s%n", report);
  }

  private static long queriesEmbedded(ElasticsearchCluster cluster) {
    JsonObject nodes = cluster.request("GET", "/_embedding_gemma/_stats", null).json().getAsJsonObject("nodes");
    return nodes.entrySet().iterator().next().getValue().getAsJsonObject().get("queries_embedded").getAsLong();
  }

  private static double engineAlone(Path model, List<Corpus.Sentence> sentences, int rounds) {
    int threads = Runtime.getRuntime().availableProcessors();
    try (TextEmbedder embedder = TextEmbedder.open(model, new EmbedderSettings(threads, 16))) {
      // The processor's default: the document prompt where the model takes task prompts.
      PromptTemplate prompt = embedder.takesTaskPrompts() ? embedder.prompt(Task.DOCUMENT) : PromptTemplate.NONE;
      List<EmbeddingInput> inputs = sentences.stream().map(s -> EmbeddingInput.of(s.text(), prompt)).toList();
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
