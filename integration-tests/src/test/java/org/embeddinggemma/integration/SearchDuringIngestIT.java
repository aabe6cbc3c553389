package org.embeddinggemma.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/**
 * Query texts are embedded on their own pool. With one first-in-first-out pool, a search would
 * finish only after every document queued before it; here it finishes while that backlog waits.
 */
class SearchDuringIngestIT {

  @Test
  void searchIsNotQueuedBehindABulkBacklog() throws Exception {
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start(
            "backlog",
            1,
            Map.of("minilm", TestModels.miniLm()),
            Map.of(
                "embedding_gemma.default_model", "minilm",
                "embedding_gemma.max_batch_size", "1",
                "thread_pool.embedding_gemma.size", "1",
                "thread_pool.embedding_gemma.queue_size", "100000"))) {
      cluster.createEmbeddingPipeline("corpus");
      cluster.createByteVectorIndex("backlog", 384, "{}");
      List<Corpus.Sentence> sentences = new ArrayList<>();
      for (int copy = 0; copy < 25; copy++) {
        for (Corpus.Sentence s : Corpus.sentences()) {
          sentences.add(new Corpus.Sentence(s.id() + "-" + copy, s.topic(), s.text()));
        }
      }
      CompletableFuture<JsonObject> bulk =
          CompletableFuture.supplyAsync(() -> cluster.request("POST", "/_bulk?pipeline=corpus", SingleNodeIT.bulk("backlog", sentences)).json());
      JsonObject before = nodeStats(cluster);
      for (int i = 0; i < 200 && pendingDocuments(before) < 1000; i++) {
        Thread.sleep(20);
        before = nodeStats(cluster);
      }
      long backlog = pendingDocuments(before);
      assertTrue(backlog >= 1000, "the bulk built a backlog: " + backlog);

      ElasticsearchCluster.Response search = cluster.request("POST", "/backlog/_search", """
          {"knn": {"field": "vector", "k": 1, "num_candidates": 10,
                   "query_vector_builder": {"embedding_gemma": {"model_text": "who painted the Mona Lisa"}}}}""");
      assertEquals(200, search.status(), search.body().toString());
      long embeddedMeanwhile = nodeStats(cluster).get("documents_embedded").getAsLong() - before.get("documents_embedded").getAsLong();
      assertTrue(
          embeddedMeanwhile < backlog / 2,
          "the search waited behind the ingest backlog: " + embeddedMeanwhile + " documents were embedded before it returned, "
              + backlog + " were queued when it started");

      assertEquals(false, bulk.get(5, TimeUnit.MINUTES).get("errors").getAsBoolean());
    }
  }

  private static JsonObject nodeStats(ElasticsearchCluster cluster) {
    JsonObject stats = cluster.request("GET", "/_embedding_gemma/_stats", null).json();
    return stats.getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
  }

  private static long pendingDocuments(JsonObject nodeStats) {
    return nodeStats.getAsJsonObject("queue").get("pending_documents").getAsLong();
  }
}
