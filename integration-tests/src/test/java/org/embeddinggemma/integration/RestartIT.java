package org.embeddinggemma.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/**
 * A node restarting with many stored pipelines, each naming its own model: pipelines are created on
 * the cluster state applier thread, so none of them may load a model there.
 */
class RestartIT {

  private static final int PIPELINES = 12;

  @Test
  void restartWithManyPipelinesIsAsFastAsWithoutThem() throws Exception {
    Map<String, Path> models = new LinkedHashMap<>();
    for (int i = 0; i < PIPELINES; i++) {
      models.put("model-" + i, TestModels.miniLm());
    }
    // Warn about any applier task over 4 s: loading twelve models there took 7.8 s before, while
    // an ordinary task may pass one second on a loaded 2-core machine.
    Map<String, String> settings = Map.of("cluster.service.slow_task_logging_threshold", "4s");
    try (ElasticsearchCluster cluster = ElasticsearchCluster.start("restart", 1, models, settings)) {
      ElasticsearchCluster.Node node = cluster.nodes().get(0);
      cluster.createByteVectorIndex("docs", 384, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");

      Duration without = cluster.restart(node);

      for (int i = 0; i < PIPELINES; i++) {
        SingleNodeIT.ok(cluster.request("PUT", "/_ingest/pipeline/p-" + i, """
            {"processors": [{"embedding_gemma": {"model_id": "model-%d", "field": "text", "target_field": "vector"}}]}""".formatted(i)));
      }
      awaitAllLoaded(cluster);
      int logBefore = cluster.fullLog(node).length();

      Duration with = cluster.restart(node);

      String restartLog = cluster.fullLog(node).substring(logBefore);
      List<String> slowApplier = restartLog.lines().filter(line -> line.contains("cluster state applier task")).toList();
      // The behaviour, not a time that a loaded machine may miss: no applier task was slow.
      assertEquals(List.of(), slowApplier);
      System.out.printf("restart to green: %d ms with %d pipelines, %d ms without%n", with.toMillis(), PIPELINES, without.toMillis());

      // The models load in the background after the restart, and every pipeline works.
      for (int i = 0; i < PIPELINES; i++) {
        JsonObject indexed = SingleNodeIT.ok(cluster.request("PUT", "/docs/_doc/" + i + "?pipeline=p-" + i, "{\"text\": \"restarted node " + i + "\"}"));
        assertEquals("created", indexed.get("result").getAsString());
      }
      awaitAllLoaded(cluster);
    }
  }

  private static void awaitAllLoaded(ElasticsearchCluster cluster) throws InterruptedException {
    JsonObject states = null;
    for (int attempt = 0; attempt < 240; attempt++) {
      JsonObject stats = SingleNodeIT.ok(cluster.request("GET", "/_embedding_gemma/_stats", null));
      states = stats.getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject().getAsJsonObject("models");
      long loaded = states.entrySet().stream().filter(e -> "loaded".equals(e.getValue().getAsJsonObject().get("state").getAsString())).count();
      if (loaded == PIPELINES) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("not all models loaded: " + states);
  }
}
