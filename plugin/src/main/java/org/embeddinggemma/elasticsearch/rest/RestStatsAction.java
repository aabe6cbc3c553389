package org.embeddinggemma.elasticsearch.rest;

import java.util.List;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.common.Strings;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.action.RestActions;
import org.embeddinggemma.elasticsearch.action.StatsAction;

/** {@code GET _embedding_gemma/_stats[/{node_id}]}: what each node embedded, its models and queues. */
public final class RestStatsAction extends BaseRestHandler {

  @Override
  public String getName() {
    return "embedding_gemma_stats_action";
  }

  @Override
  public List<Route> routes() {
    return List.of(new Route(RestRequest.Method.GET, "/_embedding_gemma/_stats"), new Route(RestRequest.Method.GET, "/_embedding_gemma/_stats/{node_id}"));
  }

  @Override
  protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
    StatsAction.NodesRequest nodesRequest = new StatsAction.NodesRequest(Strings.splitStringByCommaToArray(request.param("node_id")));
    return channel -> client.execute(StatsAction.INSTANCE, nodesRequest, new RestActions.NodesResponseRestListener<>(channel));
  }
}
