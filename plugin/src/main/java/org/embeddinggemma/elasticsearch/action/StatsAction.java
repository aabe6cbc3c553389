package org.embeddinggemma.elasticsearch.action;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.elasticsearch.action.ActionType;
import org.elasticsearch.action.FailedNodeException;
import org.elasticsearch.action.support.ActionFilters;
import org.elasticsearch.action.support.nodes.BaseNodeResponse;
import org.elasticsearch.action.support.nodes.BaseNodesResponse;
import org.elasticsearch.action.support.nodes.TransportNodesAction;
import org.elasticsearch.cluster.ClusterName;
import org.elasticsearch.cluster.node.DiscoveryNode;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.injection.guice.Inject;
import org.elasticsearch.tasks.Task;
import org.elasticsearch.threadpool.ThreadPool;
import org.elasticsearch.transport.TransportService;
import org.elasticsearch.xcontent.ToXContentFragment;
import org.elasticsearch.xcontent.XContentBuilder;
import org.embeddinggemma.elasticsearch.EmbeddingService;
import org.embeddinggemma.elasticsearch.EmbeddingStats;
import org.embeddinggemma.elasticsearch.ModelHandle;
import org.embeddinggemma.elasticsearch.search.QueryEmbeddingCache;
import org.embeddinggemma.engine.CpuFeatures;
import org.embeddinggemma.engine.GraphInputs;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * {@code GET _embedding_gemma/_stats}: per node, the loaded models, texts embedded, queue depth,
 * rejections and inference latency.
 */
public final class StatsAction {

  public static final String NAME = "cluster:monitor/embedding_gemma/stats";
  public static final ActionType<NodesResponse> INSTANCE = new ActionType<>(NAME);

  private StatsAction() {}

  /** Asks every node (or the given ones). */
  public static final class NodesRequest extends NodesRequestBase<NodesRequest> {
    public NodesRequest(String... nodeIds) {
      super(nodeIds);
    }
  }

  static final class NodeRequest extends NodeRequestBase {
    NodeRequest() {}

    NodeRequest(StreamInput in) throws IOException {
      super(in);
    }
  }

  /** One node's statistics, as a map so that they travel as they are rendered. */
  public static final class NodeResponse extends BaseNodeResponse {
    private final Map<String, Object> stats;

    NodeResponse(DiscoveryNode node, Map<String, Object> stats) {
      super(node);
      this.stats = stats;
    }

    NodeResponse(StreamInput in, DiscoveryNode node) throws IOException {
      super(in, node);
      this.stats = in.readGenericMap();
    }

    NodeResponse(StreamInput in) throws IOException {
      super(in);
      this.stats = in.readGenericMap();
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
      super.writeTo(out);
      out.writeGenericMap(stats);
    }
  }

  /** All nodes' statistics. */
  public static final class NodesResponse extends BaseNodesResponse<NodeResponse> implements ToXContentFragment {
    NodesResponse(ClusterName clusterName, List<NodeResponse> nodes, List<FailedNodeException> failures) {
      super(clusterName, nodes, failures);
    }

    @Override
    protected List<NodeResponse> readNodesFrom(StreamInput in) throws IOException {
      return in.readCollectionAsList(NodeResponse::new);
    }

    @Override
    protected void writeNodesTo(StreamOutput out, List<NodeResponse> nodes) throws IOException {
      out.writeCollection(nodes);
    }

    @Override
    public XContentBuilder toXContent(XContentBuilder builder, Params params) throws IOException {
      builder.startObject("nodes");
      for (NodeResponse node : getNodes()) {
        builder.startObject(node.getNode().getId());
        builder.field("name", node.getNode().getName());
        builder.mapContents(node.stats);
        builder.endObject();
      }
      return builder.endObject();
    }
  }

  /** Collects the local node's statistics on each node. */
  public static final class TransportNodesStatsAction
      extends TransportNodesAction<NodesRequest, NodesResponse, NodeRequest, NodeResponse, Void> {

    private final EmbeddingService service;
    private final QueryEmbeddingCache queryCache;

    @Inject
    public TransportNodesStatsAction(
        ThreadPool threadPool, ClusterService clusterService, TransportService transportService, ActionFilters actionFilters,
        EmbeddingService service, QueryEmbeddingCache queryCache) {
      super(NAME, clusterService, transportService, actionFilters, NodeRequest::new, threadPool.executor(ThreadPool.Names.MANAGEMENT));
      this.service = service;
      this.queryCache = queryCache;
    }

    @Override
    protected NodesResponse newResponse(NodesRequest request, List<NodeResponse> nodes, List<FailedNodeException> failures) {
      return new NodesResponse(clusterService.getClusterName(), nodes, failures);
    }

    @Override
    protected NodeRequest newNodeRequest(NodesRequest request) {
      return new NodeRequest();
    }

    @Override
    protected NodeResponse newNodeResponse(StreamInput in, DiscoveryNode node) throws IOException {
      return new NodeResponse(in, node);
    }

    @Override
    protected NodeResponse nodeOperation(NodeRequest request, Task task) {
      return new NodeResponse(clusterService.localNode(), localStats(service, queryCache));
    }
  }

  static Map<String, Object> localStats(EmbeddingService service, QueryEmbeddingCache queryCache) {
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("default_model", service.defaultModelId());
    stats.put("installed_models", service.registry().installed());
    Map<String, Object> models = new LinkedHashMap<>();
    for (Map.Entry<String, ModelHandle> entry : service.registry().models().entrySet()) {
      models.put(entry.getKey(), modelStats(entry.getValue()));
    }
    stats.put("models", models);
    stats.putAll(service.stats().toMap());
    Map<String, Object> queue = new LinkedHashMap<>();
    queue.put("pending_documents", service.pendingTexts(EmbeddingStats.Source.DOCUMENT));
    queue.put("pending_queries", service.pendingTexts(EmbeddingStats.Source.QUERY));
    queue.put("max_pending_documents", service.limits().maxPendingDocuments());
    queue.put("max_pending_queries", service.limits().maxPendingQueries());
    queue.put("queued_tasks", service.queuedTasks(EmbeddingStats.Source.DOCUMENT));
    queue.put("queued_search_tasks", service.queuedTasks(EmbeddingStats.Source.QUERY));
    stats.put("queue", queue);
    stats.put("query_cache", queryCache.stats());
    // Which integer kernels a W8A8 graph runs on here: ONNX Runtime chooses them from these flags.
    CpuFeatures cpu = CpuFeatures.detect();
    stats.put("cpu", Map.of("int8_flags", cpu.flags(), "int8_kernel", cpu.int8Kernel()));
    return stats;
  }

  /** A model's state, and what it is when loaded or why it is not. */
  static Map<String, Object> modelStats(ModelHandle handle) {
    Map<String, Object> info = new LinkedHashMap<>();
    // Reporting never starts a load: a model nothing has asked for is "not_loaded".
    ModelHandle.State state = handle.lastState();
    info.put("state", state == null ? "not_loaded" : state.externalName());
    TextEmbedder model = handle.loadedEmbedder();
    if (model != null) {
      info.put("graph", model.directory().root().relativize(model.directory().graph()).toString());
      info.put("fingerprint", model.fingerprint().value());
      info.put("quantization", model.graphQuantization() == null ? "none (as exported)" : model.graphQuantization());
      // EmbeddingGemma 2 ships vision and audio encoders beside the text graph: only text is embedded.
      info.put("other_graphs_not_loaded", model.directory().otherGraphs());
      info.put("dims", model.modelDims());
      info.put("default_dims", model.defaultDims());
      info.put("max_tokens", model.maxTokens());
      info.put("max_tokens_source", model.window().source());
      info.put("pooling", model.pooling().externalName());
      // EmbeddingGemma 2's official export takes image, video and audio features beside the text.
      info.put("media_inputs_fed_empty", model.graphInputs().emptyMediaInputs().stream().map(GraphInputs.MediaInput::name).toList());
      info.put("task_prompts", model.takesTaskPrompts());
      Map<String, Object> prompts = new LinkedHashMap<>();
      model.directory().prompts().all().forEach((task, prompt) ->
          prompts.put(task.externalName(), Map.of("prompt", prompt.template().template(), "source", prompt.source())));
      info.put("prompts", prompts);
      info.put("max_batch_size", model.maxBatchSize());
      info.put("max_batch_tokens", model.planner().tokenBudget());
    } else if (state == ModelHandle.State.FAILED || state == ModelHandle.State.NOT_INSTALLED) {
      info.put("error", handle.unavailable().getMessage());
    }
    return info;
  }
}
