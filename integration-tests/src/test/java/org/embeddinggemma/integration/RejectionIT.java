package org.embeddinggemma.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/** A full embedding queue fails documents with 429 at once; the others are indexed; the node lives. */
class RejectionIT {

  @Test
  void fullQueueRejectsWithTooManyRequestsAndIndexesTheRest() throws Exception {
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start(
            "tiny-queue",
            1,
            Map.of("minilm", TestModels.miniLm()),
            Map.of(
                "embedding_gemma.default_model", "minilm",
                "embedding_gemma.max_batch_size", "1",
                "thread_pool.embedding_gemma.size", "1",
                "thread_pool.embedding_gemma.queue_size", "1"))) {
      cluster.createEmbeddingPipeline("corpus");
      List<Corpus.Sentence> sentences = Corpus.sentences();
      JsonObject bulk = cluster.request("POST", "/_bulk?pipeline=corpus&refresh=true", SingleNodeIT.bulk("queue", sentences)).json();
      int created = 0;
      int rejected = 0;
      for (JsonElement item : bulk.getAsJsonArray("items")) {
        JsonObject index = item.getAsJsonObject().getAsJsonObject("index");
        int status = index.get("status").getAsInt();
        if (status == 201) {
          created++;
        } else {
          assertEquals(429, status, index.toString());
          assertEquals("es_rejected_execution_exception", index.getAsJsonObject("error").get("type").getAsString());
          rejected++;
        }
      }
      assertTrue(rejected > 0, "a one-slot queue cannot take " + sentences.size() + " documents at once");
      assertTrue(created > 0, "the documents that got a slot are indexed");
      assertEquals(created, cluster.request("GET", "/queue/_count", null).json().get("count").getAsInt());
      JsonObject node = cluster.request("GET", "/_embedding_gemma/_stats", null).json().getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
      assertEquals(rejected, node.get("rejections").getAsInt());
      assertEquals(created, node.get("documents_embedded").getAsInt());
      assertTrue(cluster.alive(cluster.nodes().get(0)));
    }
  }
}
