package org.embeddinggemma.elasticsearch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import org.apache.lucene.util.SetOnce;
import org.elasticsearch.cluster.node.DiscoveryNode;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.unit.ByteSizeValue;
import org.elasticsearch.common.util.concurrent.EsExecutors;
import org.elasticsearch.index.IndexingPressure;
import org.elasticsearch.ingest.Processor;
import org.elasticsearch.plugins.IngestPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.SearchPlugin;
import org.elasticsearch.threadpool.ExecutorBuilder;
import org.elasticsearch.threadpool.FixedExecutorBuilder;
import org.elasticsearch.threadpool.ThreadPool;
import org.embeddinggemma.elasticsearch.ingest.EmbeddingGemmaProcessor;
import org.embeddinggemma.elasticsearch.ingest.EmbeddingGemmaProcessorFactory;
import org.embeddinggemma.elasticsearch.search.EmbeddingGemmaQueryVectorBuilder;
import org.embeddinggemma.elasticsearch.search.QueryEmbeddingCache;
import org.embeddinggemma.engine.BatchPlanner;
import org.embeddinggemma.engine.EmbedderSettings;

/**
 * Runs EmbeddingGemma inside Elasticsearch: the {@code embedding_gemma} ingest processor and query
 * vector builder, and the {@code _embedding_gemma} REST endpoints. The models are built once here
 * and shared by everything that embeds.
 *
 * <p>The transport actions and REST endpoints are registered by {@link PluginActions} and {@link
 * PluginRestHandlers}, whose signatures differ between Elasticsearch versions: each API range has
 * its own in {@code src/adapters/}.
 */
public final class EmbeddingGemmaPlugin extends Plugin implements IngestPlugin, SearchPlugin, PluginActions, PluginRestHandlers {

  /** The model used when a processor, query or request names none. */
  public static final Setting<String> DEFAULT_MODEL =
      Setting.simpleString("embedding_gemma.default_model", "embeddinggemma", ModelRegistry::validateModelId, Setting.Property.NodeScope);

  /** ONNX Runtime threads inside one model run. */
  public static final Setting<Integer> INFERENCE_THREADS =
      Setting.intSetting("embedding_gemma.inference_threads", 1, 1, Setting.Property.NodeScope);

  /** The most texts embedded in one model run. */
  public static final Setting<Integer> MAX_BATCH_SIZE =
      Setting.intSetting("embedding_gemma.max_batch_size", 16, 1, 512, Setting.Property.NodeScope);

  /**
   * The most padded tokens (texts × the longest text's tokens) in one model run: bounds a run's
   * memory when texts are long, whatever {@link #MAX_BATCH_SIZE} allows.
   */
  public static final Setting<Integer> MAX_BATCH_TOKENS =
      Setting.intSetting("embedding_gemma.max_batch_tokens", BatchPlanner.DEFAULT_TOKEN_BUDGET, 1, Setting.Property.NodeScope);

  /** Whether the default model is loaded in the background when the node starts. */
  public static final Setting<Boolean> PRELOAD_DEFAULT_MODEL =
      Setting.boolSetting("embedding_gemma.preload_default_model", true, Setting.Property.NodeScope);

  /** Fewer bytes than Elasticsearch counts for any index request (object, id and source). */
  static final long LEAST_BYTES_PER_DOCUMENT = 64;

  /**
   * The most documents waiting to be embedded per model. The default lies past what Elasticsearch's
   * indexing pressure admits: it counts every document of a bulk request at no less than {@value
   * #LEAST_BYTES_PER_DOCUMENT} bytes against {@code indexing_pressure.memory.coordinating.limit}, so
   * its own 429 comes before this one.
   */
  public static final Setting<Integer> MAX_PENDING_DOCUMENTS =
      new Setting<>(
          "embedding_gemma.max_pending_documents",
          settings -> Long.toString(Math.max(10_000, IndexingPressure.MAX_COORDINATING_BYTES.get(settings).getBytes() / LEAST_BYTES_PER_DOCUMENT)),
          value -> Setting.parseInt(value, 1, "embedding_gemma.max_pending_documents"),
          Setting.Property.NodeScope);

  /** The most query texts waiting to be embedded per model. */
  public static final Setting<Integer> MAX_PENDING_QUERIES =
      Setting.intSetting("embedding_gemma.max_pending_queries", 1000, 1, Setting.Property.NodeScope);

  /** The most texts in one {@code _embed} request. */
  public static final Setting<Integer> EMBED_MAX_TEXTS =
      Setting.intSetting("embedding_gemma.embed.max_texts", 256, 1, Setting.Property.NodeScope);

  /** The most characters, all texts together, in one {@code _embed} request. */
  public static final Setting<Integer> EMBED_MAX_CHARACTERS =
      Setting.intSetting("embedding_gemma.embed.max_characters", 1_000_000, 1, Setting.Property.NodeScope);

  /** Memory for this node's cache of query embeddings; 0 turns it off. */
  public static final Setting<ByteSizeValue> QUERY_CACHE_SIZE =
      Setting.byteSizeSetting("embedding_gemma.query_cache.size", ByteSizeValue.ofMb(16), Setting.Property.NodeScope);

  /** Default queue size of the plugin's thread pools: tasks, not texts. */
  public static final int DEFAULT_QUEUE_SIZE = 1000;

  private final Settings settings;
  private final SetOnce<ThreadPool> threadPool = new SetOnce<>();
  private final EmbeddingService service;
  private final QueryEmbeddingCache queryCache;
  private final boolean ingestNode;

  public EmbeddingGemmaPlugin(Settings settings, Path configPath) {
    this.settings = settings;
    ModelRegistry registry =
        new ModelRegistry(
            configPath,
            new EmbedderSettings(INFERENCE_THREADS.get(settings), MAX_BATCH_SIZE.get(settings), MAX_BATCH_TOKENS.get(settings)),
            task -> threadPool.get().executor(EmbeddingService.THREAD_POOL_NAME).execute(task));
    Function<EmbeddingStats.Source, ExecutorService> executors =
        source -> threadPool.get().executor(
            source == EmbeddingStats.Source.QUERY ? EmbeddingService.SEARCH_THREAD_POOL_NAME : EmbeddingService.THREAD_POOL_NAME);
    EmbeddingService.Limits limits =
        new EmbeddingService.Limits(
            MAX_PENDING_DOCUMENTS.get(settings), MAX_PENDING_QUERIES.get(settings), EMBED_MAX_TEXTS.get(settings), EMBED_MAX_CHARACTERS.get(settings));
    this.service =
        new EmbeddingService(registry, DEFAULT_MODEL.get(settings), new EmbeddingStats(), executors, MAX_BATCH_SIZE.get(settings), limits);
    this.queryCache = new QueryEmbeddingCache(QUERY_CACHE_SIZE.get(settings).getBytes());
    this.ingestNode = DiscoveryNode.isIngestNode(settings);
  }

  @Override
  public List<Setting<?>> getSettings() {
    return List.of(
        DEFAULT_MODEL, INFERENCE_THREADS, MAX_BATCH_SIZE, MAX_BATCH_TOKENS, PRELOAD_DEFAULT_MODEL, MAX_PENDING_DOCUMENTS, MAX_PENDING_QUERIES,
        EMBED_MAX_TEXTS, EMBED_MAX_CHARACTERS, QUERY_CACHE_SIZE);
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
      // In the background on the plugin's pool: the node starts at once and the model is warm by the first document.
      service.registry().model(defaultModel).ensureLoading();
    }
    return List.of(service, queryCache);
  }

  @Override
  public Map<String, Processor.Factory> getProcessors(Processor.Parameters parameters) {
    return Map.of(EmbeddingGemmaProcessor.TYPE, new EmbeddingGemmaProcessorFactory(service, ingestNode));
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
  public void close() {
    service.registry().close();
  }
}
