package org.embeddinggemma.integration;

import static org.embeddinggemma.integration.SingleNodeIT.json;
import static org.embeddinggemma.integration.SingleNodeIT.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.LongDocuments;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Long documents on a real node: with chunking, passages in a nested field and a kNN search that
 * returns the document with the passage that answers; without, one vector of each document's start.
 */
class ChunkingIT {

  static ElasticsearchCluster cluster;
  static List<LongDocuments.Document> documents = LongDocuments.documents();

  static final String PASSAGES_INDEX = """
      {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
       "mappings": {"properties": {
         "title": {"type": "keyword"},
         "body": {"type": "text"},
         "cut": {"type": "boolean"},
         "passages": {"type": "nested", "properties": {
           "vector": {"type": "dense_vector", "dims": 384, "element_type": "byte", "similarity": "cosine", "index_options": {"type": "hnsw"}},
           "text": {"type": "text", "index": false},
           "start_offset": {"type": "integer"},
           "end_offset": {"type": "integer"}}}}}}""";

  @BeforeAll
  static void start() throws Exception {
    cluster = ElasticsearchCluster.start("chunking", 1, Map.of("minilm", TestModels.miniLm()), Map.of("embedding_gemma.default_model", "minilm"));
    ok(cluster.request("PUT", "/passages", PASSAGES_INDEX));
    ok(cluster.request("PUT", "/_ingest/pipeline/passages", """
        {"processors": [{"embedding_gemma": {"field": "body", "target_field": "passages", "title_field": "title",
                                             "chunking": {"max_tokens": 128}}}]}"""));
    cluster.createByteVectorIndex("whole", 384, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");
    ok(cluster.request("PUT", "/_ingest/pipeline/whole", """
        {"processors": [{"embedding_gemma": {"field": "body", "target_field": "vector"}}]}"""));
    StringBuilder bulk = new StringBuilder();
    for (LongDocuments.Document document : documents) {
      String source = "{\"title\": " + json(document.title()) + ", \"body\": " + json(document.text()) + "}";
      bulk.append("{\"index\": {\"_index\": \"passages\", \"_id\": \"").append(document.id()).append("\", \"pipeline\": \"passages\"}}\n").append(source).append('\n');
      bulk.append("{\"index\": {\"_index\": \"whole\", \"_id\": \"").append(document.id()).append("\", \"pipeline\": \"whole\"}}\n").append(source).append('\n');
    }
    JsonObject response = ok(cluster.request("POST", "/_bulk?refresh=true", bulk.toString()));
    assertEquals(false, response.get("errors").getAsBoolean(), response.toString());
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static String knn(String query, int k) {
    return """
        {"field": "passages.vector", "k": %d, "num_candidates": 100,
         "query_vector_builder": {"embedding_gemma": {"model_text": %s}},
         "inner_hits": {"size": 1, "_source": {"excludes": ["passages.vector"]}}}""".formatted(k, json(query));
  }

  @Test
  void chunkingFindsAnswersDeepInsideDocumentsThatOneVectorMisses() {
    int right = 0;
    int rightPassage = 0;
    int rightWhole = 0;
    List<Corpus.Sentence> sentences = Corpus.sentences();
    for (Corpus.Query query : Corpus.queries()) {
      String expectedDocument = LongDocuments.documentOf(query.expected());
      String answer = sentences.stream().filter(s -> s.id().equals(query.expected())).findFirst().orElseThrow().text();
      JsonObject response = ok(cluster.request("POST", "/passages/_search", "{\"knn\": " + knn(query.query(), 3) + ", \"_source\": [\"title\"]}"));
      JsonObject top = response.getAsJsonObject("hits").getAsJsonArray("hits").get(0).getAsJsonObject();
      if (top.get("_id").getAsString().equals(expectedDocument)) {
        right++;
        JsonObject passage = innerHit(top);
        if (passage.get("text").getAsString().contains(answer)) {
          rightPassage++;
        }
        String body = documents.stream().filter(d -> d.id().equals(expectedDocument)).findFirst().orElseThrow().text();
        assertEquals(body.substring(passage.get("start_offset").getAsInt(), passage.get("end_offset").getAsInt()), passage.get("text").getAsString());
      }
      JsonObject whole = ok(cluster.request("POST", "/whole/_search", """
          {"knn": {"field": "vector", "k": 3, "num_candidates": 50,
                   "query_vector_builder": {"embedding_gemma": {"model_text": %s}}}, "_source": false}""".formatted(json(query.query()))));
      rightWhole += SingleNodeIT.hitIds(whole).get(0).equals(expectedDocument) ? 1 : 0;
    }
    int queries = Corpus.queries().size();
    System.out.printf("long documents: chunked, right document first %d of %d, its best passage holds the answer %d; one vector per document: %d%n",
        right, queries, rightPassage, rightWhole);
    assertTrue(right >= queries * 8 / 10, right + " of " + queries + " right with chunking");
    assertTrue(rightPassage >= right * 9 / 10, rightPassage + " of " + right + " best passages hold the answer");
    assertTrue(rightWhole <= queries * 3 / 10, rightWhole + " of " + queries + " right with one vector per document");
  }

  private static JsonObject innerHit(JsonObject hit) {
    JsonArray inner = hit.getAsJsonObject("inner_hits").getAsJsonObject("passages").getAsJsonObject("hits").getAsJsonArray("hits");
    return inner.get(0).getAsJsonObject().getAsJsonObject("_source");
  }

  @Test
  void theKnnQueryAndRetrieverAndAParentFilterWorkOnPassages() {
    Corpus.Query query = Corpus.queries().get(0);
    String expected = LongDocuments.documentOf(query.expected());
    JsonObject asQuery = ok(cluster.request("POST", "/passages/_search", """
        {"query": {"nested": {"path": "passages", "score_mode": "max",
                              "query": {"knn": {"field": "passages.vector", "k": 10, "num_candidates": 100,
                                                "query_vector_builder": {"embedding_gemma": {"model_text": %s}}}},
                              "inner_hits": {"size": 1, "_source": {"excludes": ["passages.vector"]}}}},
         "_source": false, "size": 3}""".formatted(json(query.query()))));
    assertEquals(expected, SingleNodeIT.hitIds(asQuery).get(0));
    JsonObject retriever = ok(cluster.request("POST", "/passages/_search", """
        {"retriever": {"knn": {"field": "passages.vector", "k": 3, "num_candidates": 100,
                               "query_vector_builder": {"embedding_gemma": {"model_text": %s}}}},
         "_source": false, "size": 3}""".formatted(json(query.query()))));
    assertEquals(expected, SingleNodeIT.hitIds(retriever).get(0));
    String expectedTitle = documents.stream().filter(d -> d.id().equals(expected)).findFirst().orElseThrow().title();
    String otherTitle = documents.stream().filter(d -> !d.id().equals(expected)).findFirst().orElseThrow().title();
    JsonObject filtered = ok(cluster.request("POST", "/passages/_search", """
        {"knn": {"field": "passages.vector", "k": 3, "num_candidates": 100,
                 "query_vector_builder": {"embedding_gemma": {"model_text": %s}},
                 "filter": {"term": {"title": %s}}}, "_source": ["title"]}""".formatted(json(query.query()), json(otherTitle))));
    assertEquals(1, filtered.getAsJsonObject("hits").getAsJsonArray("hits").size(), "the one document with that title");
    for (JsonElement hit : filtered.getAsJsonObject("hits").getAsJsonArray("hits")) {
      assertEquals(otherTitle, hit.getAsJsonObject().getAsJsonObject("_source").get("title").getAsString(), "filtered on the parent's title");
    }
    assertTrue(!expectedTitle.equals(otherTitle));
  }

  @Test
  void aTenMegabyteDocumentFailsWithTheLimitOrKeepsItsFirstPassagesAndTheBulkGoesOn() throws Exception {
    ok(cluster.request("PUT", "/_ingest/pipeline/passages-first", """
        {"processors": [{"embedding_gemma": {"field": "body", "target_field": "passages", "truncated_field": "cut",
                                             "chunking": {"max_tokens": 128, "on_too_many_passages": "keep_first"}}}]}"""));
    // An index of its own: the huge documents repeat the others' text.
    ok(cluster.request("PUT", "/huge", PASSAGES_INDEX));
    StringBuilder huge = new StringBuilder();
    for (int i = 0; huge.length() < 10_000_000; i++) {
      huge.append(documents.get(i % documents.size()).text()).append("\n\n");
    }
    String body = json(huge.toString());
    long rssBefore = cluster.residentBytes(cluster.nodes().get(0));
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?refresh=true", """
        {"index": {"_index": "huge", "_id": "huge", "pipeline": "passages"}}
        {"body": %s}
        {"index": {"_index": "huge", "_id": "small", "pipeline": "passages"}}
        {"body": "A small document beside a huge one."}
        {"index": {"_index": "huge", "_id": "huge-first", "pipeline": "passages-first"}}
        {"body": %s}
        """.formatted(body, body)));
    JsonArray items = bulk.getAsJsonArray("items");
    JsonObject huge0 = items.get(0).getAsJsonObject().getAsJsonObject("index");
    assertEquals(400, huge0.get("status").getAsInt(), huge0.toString());
    assertEquals(
        "field [body] makes more than 100 passages of at most 128 tokens, the most allowed (it holds more than 128520 tokens);"
            + " raise the passage limit, use longer passages, or keep only the first passages",
        huge0.getAsJsonObject("error").get("reason").getAsString());
    assertEquals(201, items.get(1).getAsJsonObject().getAsJsonObject("index").get("status").getAsInt());
    assertEquals(201, items.get(2).getAsJsonObject().getAsJsonObject("index").get("status").getAsInt());
    JsonObject first = ok(cluster.request("GET", "/huge/_doc/huge-first?_source_excludes=body,passages.vector", null)).getAsJsonObject("_source");
    assertEquals(100, first.getAsJsonArray("passages").size());
    assertEquals(true, first.get("cut").getAsBoolean());
    long rssAfter = cluster.residentBytes(cluster.nodes().get(0));
    System.out.printf("10 MB documents: node RSS %d MB -> %d MB%n", rssBefore >> 20, rssAfter >> 20);
    assertTrue(cluster.alive(cluster.nodes().get(0)));
    assertEquals("green", ok(cluster.request("GET", "/_cluster/health", null)).get("status").getAsString());
  }

  /**
   * The passage limit is the document's: an array of 30,000 short strings fails before anything is
   * embedded (or keeps its first 100 passages), and the other documents of the bulk are indexed.
   */
  @Test
  void anArrayOfManyStringsIsBoundByTheDocumentsPassageLimit() {
    ok(cluster.request("PUT", "/_ingest/pipeline/strings", """
        {"processors": [{"embedding_gemma": {"field": "body", "target_field": "passages",
                                             "chunking": {"max_tokens": 64, "max_passages": 100}}}]}"""));
    ok(cluster.request("PUT", "/_ingest/pipeline/strings-first", """
        {"processors": [{"embedding_gemma": {"field": "body", "target_field": "passages", "truncated_field": "cut",
                                             "chunking": {"max_tokens": 64, "max_passages": 100, "on_too_many_passages": "keep_first"}}}]}"""));
    ok(cluster.request("PUT", "/strings", PASSAGES_INDEX));
    StringBuilder strings = new StringBuilder("[");
    for (int i = 0; i < 30_000; i++) {
      strings.append(i == 0 ? "" : ",").append(json("Short string number " + i + "."));
    }
    strings.append(']');
    long runsBefore = inferenceCount();
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?refresh=true", """
        {"index": {"_index": "strings", "_id": "many", "pipeline": "strings"}}
        {"body": %s}
        {"index": {"_index": "strings", "_id": "small", "pipeline": "strings"}}
        {"body": "A small document beside a large array."}
        {"index": {"_index": "strings", "_id": "many-first", "pipeline": "strings-first"}}
        {"body": %s}
        """.formatted(strings, strings)));
    JsonArray items = bulk.getAsJsonArray("items");
    JsonObject many = items.get(0).getAsJsonObject().getAsJsonObject("index");
    assertEquals(400, many.get("status").getAsInt(), many.toString());
    assertEquals(
        "field [body] makes more than 100 passages of at most 64 tokens, the most allowed for one document (30000 texts make more);"
            + " raise the passage limit, use longer passages, or keep only the first passages",
        many.getAsJsonObject("error").get("reason").getAsString());
    assertEquals(201, items.get(1).getAsJsonObject().getAsJsonObject("index").get("status").getAsInt());
    assertEquals(201, items.get(2).getAsJsonObject().getAsJsonObject("index").get("status").getAsInt(), items.get(2).toString());
    JsonObject first = ok(cluster.request("GET", "/strings/_doc/many-first?_source_excludes=body,passages.vector", null)).getAsJsonObject("_source");
    assertEquals(100, first.getAsJsonArray("passages").size());
    assertEquals(true, first.get("cut").getAsBoolean());
    // 101 passages at most (the kept 100 and the small document's), one per model run: int8 MiniLM
    // picks its scale per batch, so the engine runs it one text at a time.
    long runs = inferenceCount() - runsBefore;
    assertTrue(runs <= 101, runs + " model runs: the 30,000 strings were not embedded");
  }

  private static long inferenceCount() {
    return ok(cluster.request("GET", "/_embedding_gemma/_stats", null)).getAsJsonObject("nodes").entrySet().iterator().next().getValue()
        .getAsJsonObject().getAsJsonObject("inference").get("count").getAsLong();
  }

  @Test
  void passageVectorsEqualEmbedOfTheirText() {
    LongDocuments.Document document = documents.get(5);
    JsonObject simulated = ok(cluster.request("POST", "/_ingest/pipeline/passages/_simulate", """
        {"docs": [{"_source": {"title": %s, "body": %s}}]}""".formatted(json(document.title()), json(document.text()))));
    JsonArray passages = simulated.getAsJsonArray("docs").get(0).getAsJsonObject().getAsJsonObject("doc").getAsJsonObject("_source").getAsJsonArray("passages");
    assertTrue(passages.size() > 10, passages.size() + " passages");
    for (int i = 0; i < passages.size(); i += 7) {
      JsonObject passage = passages.get(i).getAsJsonObject();
      JsonObject embedded = ok(cluster.request("POST", "/_embedding_gemma/_embed", """
          {"texts": [%s], "title": %s}""".formatted(json(passage.get("text").getAsString()), json(document.title()))));
      assertEquals(embedded.getAsJsonArray("embeddings").get(0).getAsJsonObject().getAsJsonArray("vector"), passage.getAsJsonArray("vector"), "passage " + i);
    }
  }
}
