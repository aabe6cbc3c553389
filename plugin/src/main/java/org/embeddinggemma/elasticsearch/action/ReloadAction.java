package org.embeddinggemma.elasticsearch.action;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.ActionType;
import org.elasticsearch.action.FailedNodeException;
import org.elasticsearch.action.support.ActionFilters;
import org.elasticsearch.action.support.nodes.TransportNodesAction;
import org.elasticsearch.cluster.node.DiscoveryNode;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.injection.guice.Inject;
import org.elasticsearch.tasks.Task;
import org.elasticsearch.threadpool.ThreadPool;
import org.elasticsearch.transport.TransportService;
import org.embeddinggemma.elasticsearch.EmbeddingService;
import org.embeddinggemma.elasticsearch.ModelHandle;
import org.embeddinggemma.elasticsearch.search.QueryEmbeddingCache;

/**
 * {@code POST _embedding_gemma/_reload} (every model a node has been asked for) and {@code POST
 * _embedding_gemma/_reload/<model_id>}: loads models from their files again on every node, without a restart. The new copy is swapped in when
 * it is ready; work in flight finishes on the old one. A model whose new files do not load keeps
 * its loaded copy, and the node's answer says why.
 */
public final class ReloadAction {

  public static final String NAME = "cluster:admin/embedding_gemma/reload";
  public static final ActionType<StatsAction.NodesResponse> INSTANCE = new ActionType<>(NAME);

  private static final long TIMEOUT_MINUTES = 10;

  private ReloadAction() {}

  /** Reload one model, or every model the node knows when {@code modelId} is null. */
  public static final class NodesRequest extends NodesRequestBase<NodesRequest> {
    private final String modelId;

    public NodesRequest(String modelId) {
      super(new String[0]);
      this.modelId = modelId;
    }
  }

  static final class NodeRequest extends NodeRequestBase {
    private final String modelId;

    NodeRequest(String modelId) {
      this.modelId = modelId;
    }

    NodeRequest(StreamInput in) throws IOException {
      super(in);
      modelId = in.readOptionalString();
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
      super.writeTo(out);
      out.writeOptionalString(modelId);
    }
  }

  /** Reloads on each node, waiting for the loads so that the answer tells how they went. */
  public static final class TransportNodesReloadAction
      extends TransportNodesAction<NodesRequest, StatsAction.NodesResponse, NodeRequest, StatsAction.NodeResponse, Void> {

    private final EmbeddingService service;
    private final QueryEmbeddingCache queryCache;

    @Inject
    public TransportNodesReloadAction(
        ThreadPool threadPool, ClusterService clusterService, TransportService transportService, ActionFilters actionFilters,
        EmbeddingService service, QueryEmbeddingCache queryCache) {
      super(NAME, clusterService, transportService, actionFilters, NodeRequest::new, threadPool.executor(ThreadPool.Names.GENERIC));
      this.service = service;
      this.queryCache = queryCache;
    }

    @Override
    protected StatsAction.NodesResponse newResponse(NodesRequest request, List<StatsAction.NodeResponse> nodes, List<FailedNodeException> failures) {
      return new StatsAction.NodesResponse(clusterService.getClusterName(), nodes, failures);
    }

    @Override
    protected NodeRequest newNodeRequest(NodesRequest request) {
      return new NodeRequest(request.modelId);
    }

    @Override
    protected StatsAction.NodeResponse newNodeResponse(StreamInput in, DiscoveryNode node) throws IOException {
      return new StatsAction.NodeResponse(in, node);
    }

    @Override
    protected StatsAction.NodeResponse nodeOperation(NodeRequest request, Task task) {
      Map<String, ModelHandle> targets = new LinkedHashMap<>();
      if (request.modelId == null) {
        // Every model this node has been asked for; installed ones nobody uses stay unloaded.
        service.registry().models().forEach((id, handle) -> {
          if (handle.lastState() != null) {
            targets.put(id, handle);
          }
        });
      } else {
        targets.put(request.modelId, service.registry().model(request.modelId));
      }
      Map<String, CompletableFuture<String>> results = new LinkedHashMap<>();
      targets.forEach((id, handle) -> {
        CompletableFuture<String> result = new CompletableFuture<>();
        handle.reload(ActionListener.runBefore(
            ActionListener.wrap(embedder -> result.complete("reloaded"), e -> result.complete(e.getMessage())),
            // Once the new copy answers: vectors of the old one must not be served for it.
            () -> queryCache.invalidateModel(id)));
        results.put(id, result);
      });
      Map<String, Object> models = new LinkedHashMap<>();
      for (Map.Entry<String, CompletableFuture<String>> result : results.entrySet()) {
        Map<String, Object> model = StatsAction.modelStats(targets.get(result.getKey()));
        model.put("reload", outcome(result.getValue()));
        models.put(result.getKey(), model);
      }
      return new StatsAction.NodeResponse(clusterService.localNode(), Map.of("models", models));
    }

    private static String outcome(CompletableFuture<String> result) {
      try {
        return result.get(TIMEOUT_MINUTES, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      } catch (ExecutionException | TimeoutException e) {
        return "still loading after " + TIMEOUT_MINUTES + " minutes";
      }
    }
  }
}
