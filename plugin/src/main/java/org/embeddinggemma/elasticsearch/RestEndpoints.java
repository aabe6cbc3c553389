package org.embeddinggemma.elasticsearch;

import java.util.List;
import org.elasticsearch.rest.RestHandler;
import org.embeddinggemma.elasticsearch.rest.RestEmbedAction;
import org.embeddinggemma.elasticsearch.rest.RestReloadAction;
import org.embeddinggemma.elasticsearch.rest.RestStatsAction;

/** The {@code _embedding_gemma} REST endpoints, whichever way the running Elasticsearch registers them. */
final class RestEndpoints {

  private RestEndpoints() {}

  static List<RestHandler> handlers() {
    return List.of(new RestEmbedAction(), new RestStatsAction(), new RestReloadAction());
  }
}
