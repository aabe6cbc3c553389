package org.embeddinggemma.elasticsearch.rest;

import java.util.List;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.action.RestActions;
import org.embeddinggemma.elasticsearch.ModelRegistry;
import org.embeddinggemma.elasticsearch.action.ReloadAction;

/** {@code POST _embedding_gemma/_reload[/{model_id}]}: loads models from their files again on every node. */
public final class RestReloadAction extends BaseRestHandler {

  @Override
  public String getName() {
    return "embedding_gemma_reload_action";
  }

  @Override
  public List<Route> routes() {
    return List.of(
        new Route(RestRequest.Method.POST, "/_embedding_gemma/_reload"),
        new Route(RestRequest.Method.POST, "/_embedding_gemma/_reload/{model_id}"));
  }

  @Override
  protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
    String modelId = request.param("model_id");
    if (modelId != null) {
      ModelRegistry.validateModelId(modelId);
    }
    ReloadAction.NodesRequest nodesRequest = new ReloadAction.NodesRequest(modelId);
    return channel -> client.execute(ReloadAction.INSTANCE, nodesRequest, new RestActions.NodesResponseRestListener<>(channel));
  }
}
