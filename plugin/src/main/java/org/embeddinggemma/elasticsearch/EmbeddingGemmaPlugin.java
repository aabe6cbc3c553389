package org.embeddinggemma.elasticsearch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.lucene.util.SetOnce;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.util.concurrent.EsExecutors;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.ingest.Processor;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.IngestPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.SearchPlugin;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.threadpool.ExecutorBuilder;
import org.elasticsearch.threadpool.FixedExecutorBuilder;
import org.elasticsearch.threadpool.ThreadPool;
import org.embeddinggemma.engine.EmbedderSettings;

/**
 * Runs EmbeddingGemma inside Elasticsearch: the {@code embedding_gemma} ingest processor and query
 * vector builder, and the {@code _embedding_gemma} REST endpoints. The models are built once here
 * and shared by everything that embeds.
 */
public final class EmbeddingGemmaPlugin extends Plugin implements IngestPlugin, SearchPlugin, ActionPlugin {

  private static final Logger logger = LogManager.getLogger(EmbeddingGemmaPlugin.class);

  /** The model used when a processor, query or request names none. */
  public static final Setting<String> DEFAULT_MODEL =
      Setting.simpleString("embedding_gemma.default_model", "embeddinggemma", ModelRegistry::validateModelId, Setting.Property.NodeScope);

  /** ONNX Runtime threads inside one model run. */
  public static final Setting<Integer> INFERENCE_THREADS =
      Setting.intSetting("embedding_gemma.inference_threads", 1, 1, Setting.Property.NodeScope);

  /** The most texts embedded in one model run. */
  public static final Setting<Integer> MAX_BATCH_SIZE =
      Setting.intSetting("embedding_gemma.max_batch_size", 16, 1, 512, Setting.Property.NodeScope);

  /** Whether the default model is loaded in the background when the node starts. */
  public static final Setting<Boolean> PRELOAD_DEFAULT_MODEL =
      Setting.boolSetting("embedding_gemma.preload_default_model", true, Setting.Property.NodeScope);

  /** Default queue size of the plugin's thread pools. */
  public static final int DEFAULT_QUEUE_SIZE = 1000;

  private final Settings settings;
  private final SetOnce<ThreadPool> threadPool = new SetOnce<>();
  private final EmbeddingService service;

  public EmbeddingGemmaPlugin(Settings settings, Path configPath) {
    this.settings = settings;
    ModelRegistry registry =
        new ModelRegistry(configPath, new EmbedderSettings(INFERENCE_THREADS.get(settings), MAX_BATCH_SIZE.get(settings)));
    Function<EmbeddingStats.Source, ExecutorService> executors =
        source -> threadPool.get().executor(
            source == EmbeddingStats.Source.QUERY ? EmbeddingService.SEARCH_THREAD_POOL_NAME : EmbeddingService.THREAD_POOL_NAME);
    this.service = new EmbeddingService(registry, DEFAULT_MODEL.get(settings), new EmbeddingStats(), executors, MAX_BATCH_SIZE.get(settings));
  }

  @Override
  public List<Setting<?>> getSettings() {
    return List.of(DEFAULT_MODEL, INFERENCE_THREADS, MAX_BATCH_SIZE, PRELOAD_DEFAULT_MODEL);
  }

  @Override
  public List<ExecutorBuilder<?>> getExecutorBuilders(Settings settings) {
    int processors = EsExecutors.allocatedProcessors(settings);
    return List.of(
        pool(settings, EmbeddingService.THREAD_POOL_NAME, processors),
        // Queries get threads of their own so that a bulk request never makes a search wait.
        pool(settings, EmbeddingService.SEARCH_THREAD_POOL_NAME, Math.max(1, processors / 2)));
  }

  private static FixedExecutorBuilder pool(Settings settings, String name, int size) {
    return new FixedExecutorBuilder(settings, name, size, DEFAULT_QUEUE_SIZE, "thread_pool." + name, EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
  }

  @Override
  public Collection<?> createComponents(PluginServices services) {
    threadPool.set(services.threadPool());
    String defaultModel = service.defaultModelId();
    if (PRELOAD_DEFAULT_MODEL.get(settings) && service.registry().installed().contains(defaultModel)) {
      // Off the start-up path: the node starts at once and the model is warm by the first document.
      services.threadPool().generic().execute(() -> {
        try {
          service.registry().get(defaultModel);
        } catch (Exception e) {
          logger.warn("cannot preload default model [" + defaultModel + "]; it will be loaded on first use", e);
        }
      });
    }
    return List.of(service);
  }

  @Override
  public Map<String, Processor.Factory> getProcessors(Processor.Parameters parameters) {
    return Map.of(EmbeddingGemmaProcessor.TYPE, new EmbeddingGemmaProcessor.Factory(service));
  }

  @Override
  public List<QueryVectorBuilderSpec<?>> getQueryVectorBuilders() {
    return List.of(
        new QueryVectorBuilderSpec<>(
            EmbeddingGemmaQueryVectorBuilder.NAME,
            EmbeddingGemmaQueryVectorBuilder::new,
            (parser, context) -> {
              try {
                return EmbeddingGemmaQueryVectorBuilder.fromXContent(parser);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            }));
  }

  @Override
  public Collection<ActionHandler> getActions() {
    return List.of(
        new ActionHandler(EmbedAction.INSTANCE, TransportEmbedAction.class),
        new ActionHandler(StatsAction.INSTANCE, StatsAction.TransportNodesStatsAction.class));
  }

  @Override
  public Collection<RestHandler> getRestHandlers(
      RestHandlersServices services, Supplier<DiscoveryNodes> nodesInCluster, Predicate<NodeFeature> clusterSupportsFeature) {
    return List.of(new RestEmbedAction(), new StatsAction.RestHandler());
  }

  @Override
  public void close() {
    service.registry().close();
  }
}
