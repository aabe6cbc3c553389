package org.embeddinggemma.integration;

import static org.embeddinggemma.integration.SingleNodeIT.hitIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/** Two nodes on loopback: documents embedded on one, queries embedded on the other. */
class TwoNodeIT {

  @Test
  void ingestThroughOneNodeAndQueryThroughTheOther() throws Exception {
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start(
            "pair", 2, Map.of("minilm", TestModels.miniLm(), "late", TestModels.miniLm()), Map.of("embedding_gemma.default_model", "minilm"))) {
      ElasticsearchCluster.Node first = cluster.nodes().get(0);
      ElasticsearchCluster.Node second = cluster.nodes().get(1);
      cluster.createByteVectorIndex("corpus", 384, "{\"number_of_shards\": 2, \"number_of_replicas\": 1}");
      cluster.createEmbeddingPipeline("corpus");
      JsonObject bulk = cluster.request(first, "POST", "/_bulk?pipeline=corpus&refresh=true", SingleNodeIT.bulk("corpus", Corpus.sentences())).json();
      assertEquals(false, bulk.get("errors").getAsBoolean());

      int right = 0;
      for (Corpus.Query query : Corpus.queries()) {
        JsonObject response = cluster.request(second, "POST", "/corpus/_search", """
            {"knn": {"field": "vector", "k": 1, "num_candidates": 50,
                     "query_vector_builder": {"embedding_gemma": {"model_text": %s}}}}""".formatted(SingleNodeIT.json(query.query()))).json();
        right += hitIds(response).get(0).equals(query.expected()) ? 1 : 0;
      }
      assertTrue(right >= Corpus.queries().size() * 9 / 10, right + " of " + Corpus.queries().size());

      JsonObject stats = cluster.request(second, "GET", "/_embedding_gemma/_stats", null).json();
      assertEquals(2, stats.getAsJsonObject("_nodes").get("successful").getAsInt());
      long documents = 0;
      long queries = 0;
      for (Map.Entry<String, JsonElement> node : stats.getAsJsonObject("nodes").entrySet()) {
        JsonObject nodeStats = node.getValue().getAsJsonObject();
        documents += nodeStats.get("documents_embedded").getAsLong();
        if (nodeStats.get("name").getAsString().equals(second.name())) {
          queries = nodeStats.get("queries_embedded").getAsLong();
        }
      }
      assertEquals(240, documents, "each document embedded once, on the ingest node");
      assertEquals(Corpus.queries().size(), queries, "queries embedded on the node that coordinated them");

      modelMissingOnOneNodeIsReportedAndHealsWhenItsFilesArrive(cluster, first, second);
    }
  }

  private static void modelMissingOnOneNodeIsReportedAndHealsWhenItsFilesArrive(
      ElasticsearchCluster cluster, ElasticsearchCluster.Node first, ElasticsearchCluster.Node second) throws Exception {
    Path lateOnSecond = second.home().resolve("config/embedding-gemma/late");
    ElasticsearchCluster.run(List.of("rm", "-rf", lateOnSecond.toString()));
    String pipeline = "{\"processors\": [{\"embedding_gemma\": {\"model_id\": \"late\", \"field\": \"text\", \"target_field\": \"vector\"}}]}";
    // The master (first node) has the model and validates the pipeline; the second creates it anyway.
    assertEquals(200, cluster.request(first, "PUT", "/_ingest/pipeline/late", pipeline).status());
    String doc = "{\"text\": \"A document routed through the node without the model.\"}";
    ElasticsearchCluster.Response failed = cluster.request(second, "PUT", "/late/_doc/1?pipeline=late", doc);
    assertEquals(404, failed.status(), failed.body().toString());
    assertEquals(
        "model [late] is not installed on this node: no folder [embedding-gemma/late] in its config directory",
        failed.json().getAsJsonObject("error").get("reason").getAsString());
    JsonObject secondStats = cluster.request(second, "GET", "/_embedding_gemma/_stats/_local", null).json()
        .getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
    assertEquals("not_installed", secondStats.getAsJsonObject("models").getAsJsonObject("late").get("state").getAsString());
    assertTrue(!cluster.fullLog(second).contains("failed to update ingest pipelines"), "the second node created the pipeline");

    ElasticsearchCluster.run(List.of("cp", "-rL", TestModels.miniLm().toString(), lateOnSecond.toString()));
    if (ElasticsearchCluster.ROOT) {
      ElasticsearchCluster.run(List.of("chown", "-R", ElasticsearchCluster.RUN_AS + ":", lateOnSecond.toString()));
    }
    Thread.sleep(1500);
    ElasticsearchCluster.Response healed = cluster.request(second, "PUT", "/late/_doc/2?pipeline=late", doc);
    assertEquals(201, healed.status(), "the same pipeline works once the files are there: " + healed.body());
  }
}
