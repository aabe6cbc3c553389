package org.embeddinggemma.integration;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.embeddinggemma.testing.TestModels;

/**
 * What a small bulk request waits behind a large one on the same node: documents of every request
 * share one queue per model, first come, first served. Measures, in one run on a real node with
 * MiniLM, the time to acknowledge a bulk of 40 documents alone (the baseline) and sent while a bulk
 * of 5,000 is being embedded. Run with {@code bin/benchmark queue}.
 */
public final class QueueBenchmark {

  private QueueBenchmark() {}

  public static void main(String[] args) throws Exception {
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start("bench-queue", 1, Map.of("minilm", TestModels.miniLmFloat()), Map.of("embedding_gemma.default_model", "minilm"))) {
      cluster.createByteVectorIndex("queue", 384, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");
      cluster.createEmbeddingPipeline("queue");
      cluster.request("POST", "/_bulk?pipeline=queue", HardeningIT.bulkOf("queue", "warm-", 200));
      double alone = seconds(() -> cluster.request("POST", "/_bulk?pipeline=queue", HardeningIT.bulkOf("queue", "alone-", 40)));
      String large = HardeningIT.bulkOf("queue", "large-", 5000);
      long largeStart = System.nanoTime();
      CompletableFuture<Double> largeDone = CompletableFuture.supplyAsync(() -> {
        cluster.request("POST", "/_bulk?pipeline=queue", large);
        return (System.nanoTime() - largeStart) / 1e9;
      });
      Thread.sleep(500);
      double behind = seconds(() -> cluster.request("POST", "/_bulk?pipeline=queue", HardeningIT.bulkOf("queue", "behind-", 40)));
      double largeSeconds = largeDone.get();
      System.out.printf(
          "bulk of 40 documents: alone %.2f s | sent 0.5 s after a bulk of 5,000 (which took %.1f s): %.2f s | %.0fx%n",
          alone, largeSeconds, behind, behind / alone);
    }
  }

  private static double seconds(Runnable request) {
    long start = System.nanoTime();
    request.run();
    return (System.nanoTime() - start) / 1e9;
  }
}
