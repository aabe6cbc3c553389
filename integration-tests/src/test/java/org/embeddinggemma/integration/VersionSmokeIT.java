package org.embeddinggemma.integration;

import static org.embeddinggemma.integration.SingleNodeIT.hitIds;
import static org.embeddinggemma.integration.SingleNodeIT.json;
import static org.embeddinggemma.integration.SingleNodeIT.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.LongDocuments;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a user does first, on a node of the Elasticsearch version this build is for: the same test,
 * unchanged, runs on every supported distribution ({@code bin/versions test}). The zip is installed
 * with {@code bin/elasticsearch-plugin install}; MiniLM is the default model.
 */
class VersionSmokeIT {

  static ElasticsearchCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = ElasticsearchCluster.start("smoke", 1, Map.of("minilm", TestModels.miniLm()), Map.of("embedding_gemma.default_model", "minilm"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void theNodeRunsTheVersionThisZipWasBuiltFor() {
    // The integ-test-zip answers GET / with a 405; the nodes API tells the same version.
    JsonObject node = ok(cluster.request("GET", "/_nodes/plugins", null)).getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
    assertEquals(System.getProperty("elasticsearch.version"), node.get("version").getAsString());
    JsonArray plugins = node.getAsJsonArray("plugins");
    assertEquals("embedding-gemma", plugins.get(0).getAsJsonObject().get("name").getAsString(), plugins.toString());
    assertEquals(System.getProperty("elasticsearch.version"), plugins.get(0).getAsJsonObject().get("elasticsearch_version").getAsString());
  }

  @Test
  void theNodeRunsOnTheJavaItWasGiven() throws Exception {
    JsonObject jvm = ok(cluster.request("GET", "/_nodes/jvm", null)).getAsJsonObject("nodes").entrySet().iterator().next().getValue()
        .getAsJsonObject().getAsJsonObject("jvm");
    String javaHome = System.getProperty("node.java.home", "");
    Path release = Path.of(javaHome.isBlank() ? System.getProperty("java.home") : javaHome, "release");
    String expected = Files.readAllLines(release).stream()
        .filter(line -> line.startsWith("JAVA_VERSION="))
        .map(line -> line.substring("JAVA_VERSION=".length()).replace("\"", ""))
        .findFirst().orElseThrow();
    assertEquals(expected, jvm.get("version").getAsString(), jvm.toString());
  }

  @Test
  void aBulkWithABadDocumentIndexesTheRestAndBothKnnFormsFindThemByMeaning() {
    cluster.createByteVectorIndex("sentences", 384, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");
    cluster.createEmbeddingPipeline("sentences");
    List<Corpus.Sentence> sentences = Corpus.sentences();
    StringBuilder bulk = new StringBuilder();
    for (Corpus.Sentence sentence : sentences) {
      bulk.append("{\"index\": {\"_index\": \"sentences\", \"_id\": \"").append(sentence.id()).append("\"}}\n");
      bulk.append("{\"text\": ").append(json(sentence.text())).append("}\n");
    }
    bulk.append("{\"index\": {\"_index\": \"sentences\", \"_id\": \"bad\"}}\n{\"text\": {\"not\": \"a string\"}}\n");
    JsonObject response = ok(cluster.request("POST", "/_bulk?pipeline=sentences&refresh=true", bulk.toString()));
    assertTrue(response.get("errors").getAsBoolean(), response.toString());
    JsonArray items = response.getAsJsonArray("items");
    int failed = 0;
    for (JsonElement item : items) {
      JsonObject result = item.getAsJsonObject().getAsJsonObject("index");
      if (result.has("error")) {
        failed++;
        assertEquals("bad", result.get("_id").getAsString());
        assertEquals(400, result.get("status").getAsInt());
        assertTrue(result.getAsJsonObject("error").get("reason").getAsString().contains("field [text]"), result.toString());
      }
    }
    assertEquals(1, failed);
    assertEquals(sentences.size(), ok(cluster.request("GET", "/sentences/_count", null)).get("count").getAsInt());

    int right = 0;
    List<Corpus.Query> queries = Corpus.queries().subList(0, 20);
    for (Corpus.Query query : queries) {
      String builder = "{\"embedding_gemma\": {\"model_text\": " + json(query.query()) + "}}";
      List<String> topLevel = hitIds(ok(cluster.request("POST", "/sentences/_search", """
          {"knn": {"field": "vector", "k": 3, "num_candidates": 50, "query_vector_builder": %s}}""".formatted(builder))));
      List<String> asQuery = hitIds(ok(cluster.request("POST", "/sentences/_search", """
          {"size": 3, "query": {"knn": {"field": "vector", "k": 3, "num_candidates": 50, "query_vector_builder": %s}}}""".formatted(builder))));
      assertEquals(topLevel, asQuery, query.query());
      right += topLevel.get(0).equals(query.expected()) ? 1 : 0;
    }
    assertTrue(right >= 17, right + " of " + queries.size() + " queries find their sentence first");
  }

  @Test
  void aLongDocumentIsChunkedIntoNestedPassagesThatTheKnnSearchFinds() {
    ok(cluster.request("PUT", "/passages", ChunkingIT.PASSAGES_INDEX));
    ok(cluster.request("PUT", "/_ingest/pipeline/passages", """
        {"processors": [{"embedding_gemma": {"field": "body", "target_field": "passages", "title_field": "title",
                                             "chunking": {"max_tokens": 128}}}]}"""));
    LongDocuments.Document document = LongDocuments.documents().get(0);
    ok(cluster.request("PUT", "/passages/_doc/" + document.id() + "?pipeline=passages&refresh=true", """
        {"title": %s, "body": %s}""".formatted(json(document.title()), json(document.text()))));
    JsonArray passages = ok(cluster.request("GET", "/passages/_doc/" + document.id(), null)).getAsJsonObject("_source").getAsJsonArray("passages");
    assertTrue(passages.size() > 4, passages.size() + " passages");
    JsonObject first = passages.get(0).getAsJsonObject();
    // From 9.2, _source leaves dense vectors out by default; the search below finds them.
    assertEquals(0, first.get("start_offset").getAsInt());
    assertEquals(document.text().substring(0, first.get("end_offset").getAsInt()), first.get("text").getAsString());

    String passage = passages.get(passages.size() / 2).getAsJsonObject().get("text").getAsString();
    JsonObject found = ok(cluster.request("POST", "/passages/_search", """
        {"knn": {"field": "passages.vector", "k": 1, "num_candidates": 50,
                 "query_vector_builder": {"embedding_gemma": {"model_text": %s}},
                 "inner_hits": {"size": 1, "_source": {"excludes": ["passages.vector"]}}}}""".formatted(json(passage))));
    JsonObject hit = found.getAsJsonObject("hits").getAsJsonArray("hits").get(0).getAsJsonObject();
    assertEquals(document.id(), hit.get("_id").getAsString());
    assertEquals(1, hit.getAsJsonObject("inner_hits").getAsJsonObject("passages").getAsJsonObject("hits").getAsJsonArray("hits").size());
  }

  @Test
  void embedStatsAndReloadAnswer() {
    JsonObject embedded = ok(cluster.request("POST", "/_embedding_gemma/_embed", """
        {"texts": ["The heart pumps blood.", "Rivers flow to the sea."], "dims": 128, "element_type": "float"}"""));
    JsonArray embeddings = embedded.getAsJsonArray("embeddings");
    assertEquals(2, embeddings.size());
    assertEquals(128, embeddings.get(0).getAsJsonObject().getAsJsonArray("vector").size());

    JsonObject node = ok(cluster.request("GET", "/_embedding_gemma/_stats", null))
        .getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
    JsonObject minilm = node.getAsJsonObject("models").getAsJsonObject("minilm");
    assertEquals("loaded", minilm.get("state").getAsString(), node.toString());
    assertEquals(384, minilm.get("dims").getAsInt());
    assertEquals(256, minilm.get("max_tokens").getAsInt());

    JsonObject reloaded = ok(cluster.request("POST", "/_embedding_gemma/_reload/minilm", null));
    JsonObject after = reloaded.getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
    assertEquals("loaded", after.getAsJsonObject("models").getAsJsonObject("minilm").get("state").getAsString(), reloaded.toString());
    assertFalse(ok(cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"after the reload\"]}"))
        .getAsJsonArray("embeddings").isEmpty());
  }
}
