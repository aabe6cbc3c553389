package org.embeddinggemma.integration;

import static org.embeddinggemma.integration.SingleNodeIT.hitIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/**
 * With security on, as Elasticsearch 9 runs by default: a user who may only read an index can
 * search it with the query vector builder; embedding text directly still needs a cluster privilege.
 * Users live in the file realm: this distribution cannot create the security index.
 */
class SecurityIT {

  static final String ADMIN = "admin:admin-password";
  static final String READER = "reader:reader-password";

  @Test
  void indexReaderSearchesWithTheQueryVectorBuilder() throws Exception {
    ElasticsearchCluster.HomeSetup users = home -> {
      Files.writeString(home.resolve("config/roles.yml"), """
          corpus_reader:
            indices:
              - names: ["corpus"]
                privileges: ["read"]
          """, StandardOpenOption.APPEND);
      for (String[] user : new String[][] {{"admin", "admin-password", "superuser"}, {"reader", "reader-password", "corpus_reader"}}) {
        List<String> command = new ArrayList<>(ElasticsearchCluster.nodeCommand());
        command.addAll(List.of(home.resolve("bin/elasticsearch-users").toString(), "useradd", user[0], "-p", user[1], "-r", user[2]));
        ElasticsearchCluster.run(command);
      }
    };
    try (ElasticsearchCluster cluster =
        ElasticsearchCluster.start("secure", 1, Map.of("minilm", TestModels.miniLm()), Map.of("embedding_gemma.default_model", "minilm"), Map.of(), users, ADMIN)) {
      ElasticsearchCluster.Node node = cluster.nodes().get(0);
      cluster.createByteVectorIndex("corpus", 384, "{}");
      cluster.createEmbeddingPipeline("corpus");
      assertEquals(false, cluster.request("POST", "/_bulk?pipeline=corpus&refresh=true", SingleNodeIT.bulk("corpus", Corpus.sentences()))
          .json().get("errors").getAsBoolean());

      String search = """
          {"knn": {"field": "vector", "k": 1, "num_candidates": 20,
                   "query_vector_builder": {"embedding_gemma": {"model_text": "who painted the Mona Lisa"}}}}""";
      ElasticsearchCluster.Response asReader = cluster.requestAs(READER, node, "POST", "/corpus/_search", search);
      assertEquals(200, asReader.status(), asReader.body().toString());
      assertEquals("art-01", hitIds(asReader.json()).get(0));

      ElasticsearchCluster.Response embed = cluster.requestAs(READER, node, "POST", "/_embedding_gemma/_embed", "{\"texts\": [\"x\"]}");
      assertEquals(403, embed.status());
      assertTrue(embed.json().getAsJsonObject("error").get("reason").getAsString().startsWith(
          "action [cluster:monitor/embedding_gemma/embed] is unauthorized for user [reader]"), embed.body().toString());

      ElasticsearchCluster.Response anonymous = cluster.requestAs(null, node, "POST", "/corpus/_search", search);
      assertEquals(401, anonymous.status());
    }
  }
}
