package org.embeddinggemma.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/**
 * {@code embedding_gemma.max_pending_documents} bounds the documents waiting for a model: past it
 * a document fails at once with 429, exactly as many as the setting promises; the others are
 * indexed and the node lives.
 */
class RejectionIT {

  @Test
  void documentsPastTheBoundAreRejectedAndTheRestIndexed() throws Exception {
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start(
            "small-bound",
            1,
            Map.of("minilm", TestModels.miniLm()),
            Map.of(
                "embedding_gemma.default_model", "minilm",
                "embedding_gemma.max_pending_documents", "50",
                "thread_pool.embedding_gemma.size", "1"))) {
      cluster.createEmbeddingPipeline("bounded");
      SingleNodeIT.ok(cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"warm up\"]}"));
      long runsBefore = inferenceCount(cluster);
      // Hold the pool's only thread with a long _embed request, so that the whole bulk waits.
      StringBuilder texts = new StringBuilder();
      for (int i = 0; i < 256; i++) {
        texts.append(i == 0 ? "" : ",").append(SingleNodeIT.json(("long text number " + i + " ").repeat(60)));
      }
      CompletableFuture<HttpResponse<String>> busy =
          HttpClient.newHttpClient().sendAsync(
              HttpRequest.newBuilder(cluster.nodes().get(0).uri("/_embedding_gemma/_embed"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"texts\": [" + texts + "]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      // Its first batch done, the request holds the thread for its other 15: a wait on the state,
      // not a fixed sleep that a loaded machine may outlast before the request has started.
      for (int attempt = 0; attempt < 3000 && inferenceCount(cluster) == runsBefore; attempt++) {
        Thread.sleep(10);
      }
      JsonObject bulk = cluster.request("POST", "/_bulk?pipeline=bounded&refresh=true", HardeningIT.bulkOf("bounded", "doc-", 300)).json();
      assertTrue(busy.get().statusCode() == 200 && !busy.isCompletedExceptionally(), "the _embed request still ran: " + busy.get().body());
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
          assertEquals(
              "rejected: 50 documents are already waiting to be embedded by model [minilm] on this node, the most that"
                  + " [embedding_gemma.max_pending_documents] allows",
              index.getAsJsonObject("error").get("reason").getAsString());
          rejected++;
        }
      }
      assertEquals(50, created, "the bound lets 50 documents wait while the pool is busy");
      assertEquals(250, rejected);
      assertEquals(created, cluster.request("GET", "/bounded/_count", null).json().get("count").getAsInt());
      JsonObject node = cluster.request("GET", "/_embedding_gemma/_stats", null).json().getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
      assertEquals(rejected, node.get("rejections").getAsInt());
      assertEquals(50, node.getAsJsonObject("queue").get("max_pending_documents").getAsInt());
      assertTrue(cluster.request("GET", "/_cluster/health", null).json().get("status").getAsString().matches("green|yellow"));
      assertTrue(cluster.alive(cluster.nodes().get(0)));
    }
  }

  private static long inferenceCount(ElasticsearchCluster cluster) {
    return cluster.request("GET", "/_embedding_gemma/_stats", null).json().getAsJsonObject("nodes").entrySet().iterator().next().getValue()
        .getAsJsonObject().getAsJsonObject("inference").get("count").getAsLong();
  }
}
