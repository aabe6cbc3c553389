package org.embeddinggemma.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.cli.EmbedCommand;
import org.embeddinggemma.engine.CpuFeatures;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin on one real node: MiniLM as the default model, a Gemma-shaped model, a broken one. */
class SingleNodeIT {

  static ElasticsearchCluster cluster;

  @BeforeAll
  static void start(@TempDir Path broken) throws Exception {
    // A model directory whose graph lacks attention_mask: it must fail cleanly, never the node.
    Files.copy(TestModels.miniLmTokenizer(), broken.resolve("tokenizer.json"));
    Files.writeString(broken.resolve("model.onnx"), "not an onnx graph");
    cluster =
        ElasticsearchCluster.start(
            "single",
            1,
            Map.of(
                "minilm", TestModels.miniLm(),
                "gemma-shaped", TestModels.gemmaShaped(TestModels.Layout.EXPORT),
                "gemma2", TestModels.gemma2Shaped(),
                "broken", broken),
            Map.of("embedding_gemma.default_model", "minilm"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static JsonObject ok(ElasticsearchCluster.Response response) {
    assertTrue(response.status() / 100 == 2, "status " + response.status() + ": " + response.body());
    return response.json();
  }

  static void putPipeline(String id, String processors) {
    ok(cluster.request("PUT", "/_ingest/pipeline/" + id, "{\"processors\": [" + processors + "]}"));
  }

  static String bulk(String index, List<Corpus.Sentence> sentences) {
    StringBuilder body = new StringBuilder();
    for (Corpus.Sentence sentence : sentences) {
      body.append("{\"index\":{\"_index\":\"").append(index).append("\",\"_id\":\"").append(sentence.id()).append("\"}}\n");
      JsonObject doc = new JsonObject();
      doc.addProperty("text", sentence.text());
      doc.addProperty("topic", sentence.topic());
      body.append(doc).append('\n');
    }
    return body.toString();
  }

  static List<String> hitIds(JsonObject searchResponse) {
    List<String> ids = new ArrayList<>();
    for (JsonElement hit : searchResponse.getAsJsonObject("hits").getAsJsonArray("hits")) {
      ids.add(hit.getAsJsonObject().get("_id").getAsString());
    }
    return ids;
  }

  /** The command-line tool's vector for a text, as the reference for the node's. */
  static JsonArray cliVector(Path model, String text, String... options) {
    List<String> args = new ArrayList<>(List.of("--model", model.toString()));
    args.addAll(List.of(options));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status =
        EmbedCommand.run(
            args.toArray(String[]::new),
            new ByteArrayInputStream((text + "\n").getBytes(StandardCharsets.UTF_8)),
            out,
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertEquals(0, status);
    return JsonParser.parseString(out.toString(StandardCharsets.UTF_8).trim()).getAsJsonObject().getAsJsonArray("vector");
  }

  @Test
  void bulkIndexedCorpusIsFoundByMeaningWithByteVectors() {
    ok(cluster.request("PUT", "/corpus", """
        {"mappings": {"properties": {
          "text": {"type": "text"}, "topic": {"type": "keyword"},
          "vector": {"type": "dense_vector", "dims": 256, "element_type": "byte", "similarity": "cosine",
                     "index_options": {"type": "hnsw"}}}}}"""));
    putPipeline("corpus", """
        {"embedding_gemma": {"field": "text", "target_field": "vector", "dims": 256}}""");
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?pipeline=corpus&refresh=true", bulk("corpus", Corpus.sentences())));
    assertEquals(false, bulk.get("errors").getAsBoolean(), bulk.toString());
    assertEquals(240, ok(cluster.request("GET", "/corpus/_count", null)).get("count").getAsInt());

    List<String> misses = new ArrayList<>();
    int inTopThree = 0;
    for (Corpus.Query query : Corpus.queries()) {
      JsonObject response = ok(cluster.request("POST", "/corpus/_search", """
          {"knn": {"field": "vector", "k": 3, "num_candidates": 50,
                   "query_vector_builder": {"embedding_gemma": {"model_text": %s, "dims": 256}}}}"""
          .formatted(json(query.query()))));
      List<String> ids = hitIds(response);
      if (!ids.get(0).equals(query.expected())) {
        misses.add(query.query() + " -> " + ids.get(0));
      }
      inTopThree += ids.contains(query.expected()) ? 1 : 0;
    }
    int queries = Corpus.queries().size();
    assertTrue(misses.size() <= queries / 10, "misses: " + misses);
    assertTrue(inTopThree >= queries - 1, "in top 3: " + inTopThree + " of " + queries);

    // The same builder in the knn query and in the knn retriever.
    String builder = "{\"embedding_gemma\": {\"model_text\": \"how long is a marathon\", \"dims\": 256, \"element_type\": \"byte\"}}";
    assertEquals("sports-02", hitIds(ok(cluster.request("POST", "/corpus/_search", """
        {"query": {"knn": {"field": "vector", "k": 3, "num_candidates": 50, "query_vector_builder": %s}}}""".formatted(builder)))).get(0));
    assertEquals("sports-02", hitIds(ok(cluster.request("POST", "/corpus/_search", """
        {"retriever": {"knn": {"field": "vector", "k": 3, "num_candidates": 50, "query_vector_builder": %s}}}""".formatted(builder)))).get(0));
  }

  @Test
  void simulateWritesTheCommandLineToolsVector() {
    String text = "Vaccines train the immune system to recognise pathogens.";
    JsonObject simulated = ok(cluster.request("POST", "/_ingest/pipeline/_simulate", """
        {"pipeline": {"processors": [
           {"embedding_gemma": {"field": "text", "target_field": "bytes", "dims": 128}},
           {"embedding_gemma": {"field": "text", "target_field": "floats", "dims": 384, "element_type": "float"}}]},
         "docs": [{"_source": {"text": %s}}]}""".formatted(json(text))));
    JsonObject source = simulated.getAsJsonArray("docs").get(0).getAsJsonObject().getAsJsonObject("doc").getAsJsonObject("_source");
    assertEquals(cliVector(TestModels.miniLm(), text, "--task", "document", "--dims", "128", "--int8"), source.getAsJsonArray("bytes"));
    assertArrayEquals(floats(cliVector(TestModels.miniLm(), text, "--dims", "384")), floats(source.getAsJsonArray("floats")));
  }

  @Test
  void floatFieldsWithInt8HnswAtEveryMatryoshkaSize() {
    StringBuilder mappings = new StringBuilder("{\"mappings\": {\"properties\": {\"text\": {\"type\": \"text\"}");
    StringBuilder processors = new StringBuilder();
    for (int dims : new int[] {128, 256, 384}) {
      mappings.append(", \"v").append(dims).append("\": {\"type\": \"dense_vector\", \"dims\": ").append(dims)
          .append(", \"element_type\": \"float\", \"similarity\": \"dot_product\", \"index_options\": {\"type\": \"int8_hnsw\"}}");
      processors.append(processors.isEmpty() ? "" : ",").append("""
          {"embedding_gemma": {"field": "text", "target_field": "v%d", "dims": %d, "element_type": "float"}}""".formatted(dims, dims));
    }
    ok(cluster.request("PUT", "/floats", mappings.append("}}}").toString()));
    putPipeline("floats", processors.toString());
    List<Corpus.Sentence> sentences = Corpus.sentences().stream().filter(s -> s.topic().equals("animals") || s.topic().equals("music")).toList();
    assertEquals(false, ok(cluster.request("POST", "/_bulk?pipeline=floats&refresh=true", bulk("floats", sentences))).get("errors").getAsBoolean());
    for (int dims : new int[] {128, 256, 384}) {
      JsonObject response = ok(cluster.request("POST", "/floats/_search", """
          {"knn": {"field": "v%d", "k": 1, "num_candidates": 20,
                   "query_vector_builder": {"embedding_gemma": {"model_text": "biggest animal on earth", "dims": %d, "element_type": "float"}}}}"""
          .formatted(dims, dims)));
      assertEquals("animals-02", hitIds(response).get(0), "dims " + dims);
    }
  }

  @Test
  void queryBuilderMakesTheProcessorsVectorForTheSameTextAndTask() {
    ok(cluster.request("PUT", "/same", """
        {"mappings": {"properties": {"vector": {"type": "dense_vector", "dims": 384, "element_type": "byte",
          "similarity": "cosine", "index_options": {"type": "hnsw"}}}}}"""));
    putPipeline("same", "{\"embedding_gemma\": {\"field\": \"text\", \"target_field\": \"vector\"}}");
    String text = "Octopuses have three hearts and blue blood.";
    ok(cluster.request("PUT", "/same/_doc/1?pipeline=same&refresh=true", "{\"text\": " + json(text) + "}"));
    JsonObject hit = ok(cluster.request("POST", "/same/_search", """
        {"knn": {"field": "vector", "k": 1, "num_candidates": 10,
          "query_vector_builder": {"embedding_gemma": {"model_text": %s, "task": "document"}}}}""".formatted(json(text))))
        .getAsJsonObject("hits").getAsJsonArray("hits").get(0).getAsJsonObject();
    assertEquals(1.0, hit.get("_score").getAsDouble(), 1e-6, "identical vectors: cosine 1");
  }

  /**
   * EmbeddingGemma 2's export layout ({@link TestModels#gemma2Shaped()}) installed as it is: a bulk
   * in which one document quotes the media placeholders is indexed whole, every vector names its
   * model, {@code _stats} shows what was loaded and what was not, chunking and the query builder
   * work, and a text of 8,000 tokens is embedded within the token budget.
   */
  @Test
  void embeddingGemma2ExportServesAsPublished() {
    ok(cluster.request("PUT", "/gemma2", """
        {"mappings": {"properties": {
          "text": {"type": "text"}, "model": {"type": "keyword"},
          "vector": {"type": "dense_vector", "dims": 256, "element_type": "byte", "similarity": "cosine", "index_options": {"type": "hnsw"}}}}}"""));
    putPipeline("gemma2", """
        {"embedding_gemma": {"model_id": "gemma2", "field": "text", "target_field": "vector", "dims": 256, "fingerprint_field": "model"}}""");
    String quoting = "The tokenizer's image placeholder is written <|image|>, the audio one <|audio|> and the video one <|video|>.";
    StringBuilder body = new StringBuilder();
    List<String> texts = List.of(quoting, "Jupiter has a storm larger than the Earth.", "<|image|>", "Vaccines train the immune system.");
    for (int i = 0; i < texts.size(); i++) {
      body.append("{\"index\":{\"_index\":\"gemma2\",\"_id\":\"").append(i).append("\"}}\n{\"text\":").append(json(texts.get(i))).append("}\n");
    }
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?pipeline=gemma2&refresh=true", body.toString()));
    assertEquals(false, bulk.get("errors").getAsBoolean(), bulk.toString());
    assertEquals(4, ok(cluster.request("GET", "/gemma2/_count", null)).get("count").getAsInt());

    JsonObject model = ok(cluster.request("GET", "/_embedding_gemma/_stats", null)).getAsJsonObject("nodes").entrySet().iterator().next()
        .getValue().getAsJsonObject().getAsJsonObject("models").getAsJsonObject("gemma2");
    assertEquals("onnx/model.onnx", model.get("graph").getAsString());
    assertEquals("[\"onnx/audio_encoder.onnx\",\"onnx/vision_encoder.onnx\"]", model.get("other_graphs_not_loaded").toString());
    assertEquals("[\"audio_features\",\"image_features\",\"video_features\"]", model.get("media_inputs_fed_empty").toString());
    assertEquals(8192, model.get("max_tokens").getAsInt());
    assertEquals(8192, model.get("max_batch_tokens").getAsInt());
    JsonObject queryPrompt = model.getAsJsonObject("prompts").getAsJsonObject("query");
    assertEquals("task: search result | query: ", queryPrompt.get("prompt").getAsString());
    assertEquals("config_sentence_transformers.json", queryPrompt.get("source").getAsString());
    String fingerprint = model.get("fingerprint").getAsString();
    assertTrue(fingerprint.matches("[0-9a-f]{16}"), fingerprint);

    // Each document names the model; the query builder finds the quoting document by its own text.
    JsonObject hits = ok(cluster.request("POST", "/gemma2/_search", """
        {"knn": {"field": "vector", "k": 1, "num_candidates": 10,
          "query_vector_builder": {"embedding_gemma": {"model_id": "gemma2", "model_text": %s, "task": "document", "dims": 256}}}}"""
        .formatted(json(quoting)))).getAsJsonObject("hits");
    JsonObject hit = hits.getAsJsonArray("hits").get(0).getAsJsonObject();
    assertEquals("0", hit.get("_id").getAsString());
    assertEquals(1.0, hit.get("_score").getAsDouble(), 1e-6);
    assertEquals(fingerprint, hit.getAsJsonObject("_source").get("model").getAsString());

    // Passages of a long document that quotes a placeholder.
    StringBuilder article = new StringBuilder();
    for (Corpus.Sentence sentence : Corpus.sentences()) {
      article.append(sentence.text()).append(sentence.id().endsWith("-03") ? " See <|video|>. " : " ");
    }
    JsonObject simulated = ok(cluster.request("POST", "/_ingest/pipeline/_simulate", """
        {"pipeline": {"processors": [{"embedding_gemma": {"model_id": "gemma2", "field": "text", "target_field": "passages",
           "fingerprint_field": "model", "chunking": {"max_tokens": 512}}}]},
         "docs": [{"_source": {"text": %s}}]}""".formatted(json(article.toString()))));
    JsonObject source = simulated.getAsJsonArray("docs").get(0).getAsJsonObject().getAsJsonObject("doc").getAsJsonObject("_source");
    assertTrue(source.getAsJsonArray("passages").size() > 4, source.getAsJsonArray("passages").size() + " passages");
    assertEquals(fingerprint, source.get("model").getAsString());

    // A text of about 8,000 tokens, in one _embed with short ones: embedded whole, within the budget.
    String longText = (article + " ").repeat(3);
    JsonObject embedded = ok(cluster.request("POST", "/_embedding_gemma/_embed", """
        {"model_id": "gemma2", "texts": [%s, "short", %s], "dims": 128}""".formatted(json(longText.substring(0, 40_500)), json(quoting))));
    assertEquals(fingerprint, embedded.get("model_fingerprint").getAsString());
    JsonObject first = embedded.getAsJsonArray("embeddings").get(0).getAsJsonObject();
    int tokens = first.get("tokens").getAsInt();
    assertTrue(tokens > 7900 && tokens <= 8192, tokens + " tokens");
    assertEquals(false, first.get("truncated").getAsBoolean());
  }

  @Test
  void gemmaShapedModelWithTheRealGemmaTokenizerRunsThroughThePipeline() {
    String text = "Jupiter has a storm larger than the Earth.";
    JsonObject simulated = ok(cluster.request("POST", "/_ingest/pipeline/_simulate", """
        {"pipeline": {"processors": [{"embedding_gemma": {"model_id": "gemma-shaped", "field": "text", "target_field": "vector",
           "title_field": "title", "dims": 256}}]},
         "docs": [{"_source": {"text": %s, "title": "Planets"}}]}""".formatted(json(text))));
    JsonArray vector = simulated.getAsJsonArray("docs").get(0).getAsJsonObject().getAsJsonObject("doc").getAsJsonObject("_source").getAsJsonArray("vector");
    Path model = TestModels.gemmaShaped(TestModels.Layout.EXPORT);
    assertEquals(cliVector(model, text, "--task", "document", "--title", "Planets", "--dims", "256", "--int8"), vector);

    JsonObject embedded = ok(cluster.request("POST", "/_embedding_gemma/_embed", """
        {"model_id": "gemma-shaped", "texts": [%s], "task": "query", "dims": 128, "element_type": "float"}""".formatted(json(text))));
    JsonObject first = embedded.getAsJsonArray("embeddings").get(0).getAsJsonObject();
    assertArrayEquals(floats(cliVector(model, text, "--task", "query", "--dims", "128")), floats(first.getAsJsonArray("vector")));
    assertEquals(cliTokens(model, text, "--task", "query"), first.get("tokens").getAsInt());
  }

  @Test
  void configurationErrorsNameTheOptionAtPipelineCreation() {
    Map<String, String[]> cases = new java.util.LinkedHashMap<>();
    cases.put("\"model_id\": \"missing\"", new String[] {"model_id", "model [missing] is not installed on this node: no folder [embedding-gemma/missing] in its config directory; installed models: [broken, gemma-shaped, gemma2, minilm]"});
    cases.put("\"model_id\": \"../etc\"", new String[] {"model_id", "model_id [../etc] is invalid: use only letters, digits, '-', '_' and '.', and not '.' or '..'"});
    cases.put("\"dims\": 1000", new String[] {"dims", "model [minilm] has 384 dims, cannot produce 1000"});
    cases.put("\"dims\": 0", new String[] {"dims", "must be at least 1, got 0"});
    cases.put("\"task\": \"summarise\"", new String[] {"task", "unknown task [summarise]; expected one of [query, document, question_answering, fact_checking, classification, clustering, sentence_similarity, code_retrieval, none]"});
    cases.put("\"task\": \"query\", \"prompt\": \"q: \"", new String[] {"task", "[task] and [prompt] cannot both be set; use one"});
    cases.put("\"prompt\": \"\"", new String[] {"prompt", "[prompt] must not be empty; use \"task\": \"none\" for no prompt"});
    cases.put("\"element_type\": \"bit\"", new String[] {"element_type", "unknown element_type [bit]; expected one of [byte, float]"});
    cases.put("\"model_id\": \"broken\"", new String[] {"model_id", "model [broken] cannot be loaded: cannot load ONNX graph ["});
    // A pipeline is checked against what is known of its model without waiting for a load: load them first.
    ok(cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"x\"]}"));
    assertEquals(409, cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"broken\", \"texts\": [\"x\"]}").status());
    for (Map.Entry<String, String[]> entry : cases.entrySet()) {
      ElasticsearchCluster.Response response = cluster.request("PUT", "/_ingest/pipeline/bad", """
          {"processors": [{"embedding_gemma": {"field": "text", "target_field": "vector", %s}}]}""".formatted(entry.getKey()));
      assertEquals(400, response.status(), entry.getKey() + ": " + response.body());
      JsonObject error = response.json().getAsJsonObject("error");
      assertEquals(entry.getValue()[0], error.get("property_name").getAsString(), entry.getKey());
      String reason = error.get("reason").getAsString();
      String expected = "[" + entry.getValue()[0] + "] " + entry.getValue()[1];
      assertTrue(reason.equals(expected) || reason.startsWith(expected) && expected.endsWith("["), entry.getKey() + ": " + reason);
    }
    ElasticsearchCluster.Response missingField = cluster.request("PUT", "/_ingest/pipeline/bad", """
        {"processors": [{"embedding_gemma": {"target_field": "vector"}}]}""");
    assertEquals("[field] required property is missing", missingField.json().getAsJsonObject("error").get("reason").getAsString());
    ElasticsearchCluster.Response unknown = cluster.request("PUT", "/_ingest/pipeline/bad", """
        {"processors": [{"embedding_gemma": {"field": "text", "target_field": "vector", "dimensions": 12}}]}""");
    assertEquals(
        "processor [embedding_gemma] doesn't support one or more provided configuration parameters [dimensions]",
        unknown.json().getAsJsonObject("error").get("reason").getAsString());
    assertTrue(ok(cluster.request("GET", "/_cluster/health", null)).get("status").getAsString().matches("green|yellow"));
  }

  @Test
  void badDocumentsFailAloneAndTheRestOfTheBulkIsIndexed() throws Exception {
    putPipeline("strict", "{\"embedding_gemma\": {\"field\": \"text\", \"target_field\": \"vector\", \"dims\": 64}}");
    putPipeline("lenient", "{\"embedding_gemma\": {\"field\": \"text\", \"target_field\": \"vector\", \"dims\": 64, \"ignore_missing\": true}}");
    String bulk = """
        {"index": {"_index": "mixed", "_id": "good-1", "pipeline": "strict"}}
        {"text": "A perfectly good sentence."}
        {"index": {"_index": "mixed", "_id": "missing", "pipeline": "strict"}}
        {"body": "no text field"}
        {"index": {"_index": "mixed", "_id": "null", "pipeline": "strict"}}
        {"text": null}
        {"index": {"_index": "mixed", "_id": "number", "pipeline": "strict"}}
        {"text": 42}
        {"index": {"_index": "mixed", "_id": "empty", "pipeline": "strict"}}
        {"text": "   "}
        {"index": {"_index": "mixed", "_id": "skipped", "pipeline": "lenient"}}
        {"body": "no text field, ignore_missing"}
        {"index": {"_index": "mixed", "_id": "good-2", "pipeline": "strict"}}
        {"text": "Another good sentence."}
        """;
    JsonObject response = ok(cluster.request("POST", "/_bulk?refresh=true", bulk));
    Map<String, String> reasons = new java.util.HashMap<>();
    Map<String, Integer> statuses = new java.util.HashMap<>();
    for (JsonElement item : response.getAsJsonArray("items")) {
      JsonObject index = item.getAsJsonObject().getAsJsonObject("index");
      statuses.put(index.get("_id").getAsString(), index.get("status").getAsInt());
      if (index.has("error")) {
        reasons.put(index.get("_id").getAsString(), index.getAsJsonObject("error").get("reason").getAsString());
      }
    }
    assertEquals(201, statuses.get("good-1"));
    assertEquals(201, statuses.get("good-2"));
    assertEquals(201, statuses.get("skipped"));
    assertEquals("field [text] not present as part of path [text]", reasons.get("missing"));
    assertEquals("field [text] is null: there is no text to embed", reasons.get("null"));
    assertEquals("field [text] is a number: only a string can be embedded", reasons.get("number"));
    assertEquals("field [text] is empty: there is no text to embed", reasons.get("empty"));
    for (String bad : List.of("missing", "null", "number", "empty")) {
      assertEquals(400, statuses.get(bad), bad);
    }
    JsonObject good = ok(cluster.request("GET", "/mixed/_doc/good-1", null));
    assertEquals(64, good.getAsJsonObject("_source").has("vector")
        ? good.getAsJsonObject("_source").getAsJsonArray("vector").size()
        : ok(cluster.request("POST", "/mixed/_search", "{\"query\": {\"ids\": {\"values\": [\"good-1\"]}}, \"fields\": [\"vector\"]}"))
            .getAsJsonObject("hits").getAsJsonArray("hits").get(0).getAsJsonObject().getAsJsonObject("fields").getAsJsonArray("vector").size());
    assertEquals(false, ok(cluster.request("GET", "/mixed/_doc/skipped", null)).getAsJsonObject("_source").has("vector"));
    assertTrue(cluster.alive(cluster.nodes().get(0)));
  }

  @Test
  void onFailureAndIgnoreFailureHandleDocumentErrors() {
    // The integ-test-zip has no ingest-common or painless, so the handlers are embedding_gemma too.
    putPipeline("fallback", """
        {"embedding_gemma": {"field": "text", "target_field": "vector", "dims": 32, "tag": "from-text",
           "on_failure": [{"embedding_gemma": {"field": "summary", "target_field": "vector", "dims": 32}}]}}""");
    putPipeline("tolerant", """
        {"embedding_gemma": {"field": "text", "target_field": "vector", "dims": 32, "ignore_failure": true}}""");
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?refresh=true", """
        {"index": {"_index": "handlers", "_id": "fallback", "pipeline": "fallback"}}
        {"text": 7, "summary": "A summary to embed instead."}
        {"index": {"_index": "handlers", "_id": "tolerant", "pipeline": "tolerant"}}
        {"text": ""}
        """));
    assertEquals(false, bulk.get("errors").getAsBoolean(), bulk.toString());
    JsonObject fallback = ok(cluster.request("POST", "/handlers/_search", "{\"query\": {\"ids\": {\"values\": [\"fallback\"]}}, \"fields\": [\"vector\"]}"));
    JsonArray vector = fallback.getAsJsonObject("hits").getAsJsonArray("hits").get(0).getAsJsonObject().getAsJsonObject("fields").getAsJsonArray("vector");
    assertEquals(asFloats(cliVector(TestModels.miniLm(), "A summary to embed instead.", "--dims", "32", "--int8")), asFloats(vector));
    assertEquals(false, ok(cluster.request("GET", "/handlers/_doc/tolerant", null)).getAsJsonObject("_source").has("vector"));
  }

  /** Dynamic mapping reads the int8 values back as floats. */
  private static JsonArray asFloats(JsonArray values) {
    JsonArray floats = new JsonArray();
    values.forEach(value -> floats.add(value.getAsFloat()));
    return floats;
  }

  @Test
  void embedEndpointReturnsVectorsTokensAndTruncationAndStatsCount() {
    String longText = "word ".repeat(400);
    JsonObject embedded = ok(cluster.request("POST", "/_embedding_gemma/_embed", """
        {"texts": ["short text", %s], "dims": 32}""".formatted(json(longText))));
    assertEquals("minilm", embedded.get("model_id").getAsString());
    assertEquals("byte", embedded.get("element_type").getAsString());
    JsonArray embeddings = embedded.getAsJsonArray("embeddings");
    assertEquals(32, embeddings.get(0).getAsJsonObject().getAsJsonArray("vector").size());
    assertEquals(4, embeddings.get(0).getAsJsonObject().get("tokens").getAsInt(), "[CLS] short text [SEP]");
    assertEquals(false, embeddings.get(0).getAsJsonObject().get("truncated").getAsBoolean());
    assertEquals(256, embeddings.get(1).getAsJsonObject().get("tokens").getAsInt());
    assertEquals(true, embeddings.get(1).getAsJsonObject().get("truncated").getAsBoolean());

    ElasticsearchCluster.Response invalid = cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"a\", \"\"], \"element_type\": \"half\"}");
    assertEquals(400, invalid.status());
    assertEquals(
        "Validation Failed: 1: [texts][1] is empty: there is no text to embed;2: unknown element_type [half]; expected one of [byte, float];",
        invalid.json().getAsJsonObject("error").get("reason").getAsString());
    ElasticsearchCluster.Response unknownField = cluster.request("POST", "/_embedding_gemma/_embed", "{\"text\": \"a\"}");
    assertEquals(400, unknownField.status());
    assertEquals(
        "unknown field [text]; expected one of [dims, element_type, model_id, prompt, task, texts, title]",
        unknownField.json().getAsJsonObject("error").get("reason").getAsString());

    JsonObject stats = ok(cluster.request("GET", "/_embedding_gemma/_stats", null));
    JsonObject node = stats.getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
    assertEquals("minilm", node.get("default_model").getAsString());
    assertEquals(List.of("broken", "gemma-shaped", "gemma2", "minilm"), node.getAsJsonArray("installed_models").asList().stream().map(JsonElement::getAsString).toList());
    assertEquals("loaded", node.getAsJsonObject("models").getAsJsonObject("minilm").get("state").getAsString());
    assertEquals(384, node.getAsJsonObject("models").getAsJsonObject("minilm").get("dims").getAsInt());
    assertEquals("none (as exported)", node.getAsJsonObject("models").getAsJsonObject("minilm").get("quantization").getAsString());
    // The node reads the CPU's flags as this JVM does (the policy lets it read /proc/cpuinfo).
    assertEquals(CpuFeatures.detect().int8Kernel(), node.getAsJsonObject("cpu").get("int8_kernel").getAsString());
    assertTrue(node.get("texts_embedded_by_rest").getAsLong() >= 2);
    assertTrue(node.getAsJsonObject("inference").get("count").getAsLong() >= 1);
    assertTrue(node.getAsJsonObject("queue").has("pending_documents"));
    String log = cluster.fullLog(cluster.nodes().get(0));
    assertTrue(log.contains("loaded model [minilm]"), "the model load is logged");
    assertTrue(!log.contains("Not entitled"), "the plugin stayed within its entitlements:\n" + log);
  }

  static int cliTokens(Path model, String text, String... options) {
    List<String> args = new ArrayList<>(List.of("--model", model.toString()));
    args.addAll(List.of(options));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    EmbedCommand.run(args.toArray(String[]::new), new ByteArrayInputStream((text + "\n").getBytes(StandardCharsets.UTF_8)), out,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    return JsonParser.parseString(out.toString(StandardCharsets.UTF_8).trim()).getAsJsonObject().get("tokens").getAsInt();
  }

  static float[] floats(JsonArray array) {
    float[] values = new float[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = array.get(i).getAsFloat();
    }
    return values;
  }

  static String json(String text) {
    return new com.google.gson.JsonPrimitive(text).toString();
  }
}
