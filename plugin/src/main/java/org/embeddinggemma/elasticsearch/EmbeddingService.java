package org.embeddinggemma.elasticsearch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Function;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.common.util.concurrent.EsRejectedExecutionException;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * Runs embeddings on the plugin's own bounded thread pools, never on Elasticsearch's transport,
 * write or search threads: documents and REST calls on {@value #THREAD_POOL_NAME}, queries on
 * {@value #SEARCH_THREAD_POOL_NAME}, so that a large bulk request never delays or rejects searches.
 *
 * <p>Single texts (one per ingested document or query) wait in a queue per model and pool; each
 * pool task takes up to {@code max_batch_size} of them and embeds them in one model run, so a bulk
 * request is embedded in batches although processors see one document at a time. When a pool's
 * queue is full the text fails at once with {@link EsRejectedExecutionException} (HTTP 429).
 */
public final class EmbeddingService {

  private static final Logger logger = LogManager.getLogger(EmbeddingService.class);

  /** Name of the thread pool that embeds documents and REST texts. */
  public static final String THREAD_POOL_NAME = "embedding_gemma";

  /** Name of the thread pool that embeds query texts. */
  public static final String SEARCH_THREAD_POOL_NAME = "embedding_gemma_search";

  private final ModelRegistry registry;
  private final String defaultModelId;
  private final EmbeddingStats stats;
  private final Function<EmbeddingStats.Source, ExecutorService> executors;
  private final int maxBatchSize;
  private final Map<String, Queue<Pending>> pending = new ConcurrentHashMap<>();

  private record Pending(
      String text, String title, PromptSpec prompt, Integer dims, EmbeddingStats.Source source, ActionListener<Embedding> listener) {}

  /**
   * @param executors the pool for each source of texts, looked up on use because the node creates
   *     its thread pools after the plugin
   * @param maxBatchSize the most single texts taken into one model run
   */
  public EmbeddingService(
      ModelRegistry registry,
      String defaultModelId,
      EmbeddingStats stats,
      Function<EmbeddingStats.Source, ExecutorService> executors,
      int maxBatchSize) {
    this.registry = registry;
    this.defaultModelId = defaultModelId;
    this.stats = stats;
    this.executors = executors;
    this.maxBatchSize = maxBatchSize;
  }

  /** The node's models. */
  public ModelRegistry registry() {
    return registry;
  }

  /** The model used when a request names none: {@code embedding_gemma.default_model}. */
  public String defaultModelId() {
    return defaultModelId;
  }

  /** What this node embedded. */
  public EmbeddingStats stats() {
    return stats;
  }

  /**
   * Embeds one text, batched with other single texts waiting for the same model.
   *
   * @param dims Matryoshka dims, or null for the model's default
   */
  public void embed(
      String modelId, String text, String title, PromptSpec prompt, Integer dims, EmbeddingStats.Source source, ActionListener<Embedding> listener) {
    Pending item = new Pending(text, title, prompt, dims, source, listener);
    ExecutorService executor = executors.apply(source);
    String lane = (source == EmbeddingStats.Source.QUERY ? SEARCH_THREAD_POOL_NAME : THREAD_POOL_NAME) + "/" + modelId;
    Queue<Pending> queue = pending.computeIfAbsent(lane, id -> new ConcurrentLinkedQueue<>());
    queue.add(item);
    try {
      executor.execute(() -> drain(modelId, queue));
    } catch (EsRejectedExecutionException e) {
      // Another task may already have taken the item; only fail it if it is still waiting.
      if (queue.remove(item)) {
        stats.rejected();
        listener.onFailure(e);
      }
    }
  }

  /** Embeds several texts of one request in one pool task; the engine batches them. */
  public void embedAll(
      String modelId, List<String> texts, String title, PromptSpec prompt, Integer dims, EmbeddingStats.Source source, ActionListener<List<Embedding>> listener) {
    try {
      executors.apply(source).execute(() -> {
        List<Embedding> embeddings;
        try {
          TextEmbedder embedder = registry.get(modelId);
          List<EmbeddingInput> inputs = new ArrayList<>(texts.size());
          for (String text : texts) {
            inputs.add(new EmbeddingInput(text, prompt.resolve(embedder), title));
          }
          embeddings = run(embedder, inputs, dims);
        } catch (Throwable t) {
          stats.failed(texts.size());
          listener.onFailure(asException(t));
          return;
        }
        stats.embedded(source, embeddings.size());
        listener.onResponse(embeddings);
      });
    } catch (EsRejectedExecutionException e) {
      stats.rejected();
      listener.onFailure(e);
    }
  }

  private List<Embedding> run(TextEmbedder embedder, List<EmbeddingInput> inputs, Integer dims) {
    long start = System.nanoTime();
    List<Embedding> embeddings = embedder.embed(inputs, dims == null ? embedder.defaultDims() : dims);
    stats.inference(System.nanoTime() - start);
    return embeddings;
  }

  private void drain(String modelId, Queue<Pending> queue) {
    List<Pending> batch = new ArrayList<>(maxBatchSize);
    Pending item;
    while (batch.size() < maxBatchSize && (item = queue.poll()) != null) {
      batch.add(item);
    }
    if (batch.isEmpty()) {
      return;
    }
    TextEmbedder embedder;
    try {
      embedder = registry.get(modelId);
    } catch (Throwable t) {
      fail(batch, asException(t));
      return;
    }
    Map<Integer, List<Pending>> byDims = new LinkedHashMap<>();
    for (Pending p : batch) {
      byDims.computeIfAbsent(p.dims() == null ? embedder.defaultDims() : p.dims(), d -> new ArrayList<>()).add(p);
    }
    byDims.forEach((dims, group) -> embedGroup(embedder, dims, group));
  }

  /**
   * Embeds texts of one model and dims in one run. If the run fails and held several texts, each is
   * retried alone, so that a text the model cannot take fails by itself and never takes the other
   * documents of a bulk request with it.
   */
  private void embedGroup(TextEmbedder embedder, int dims, List<Pending> group) {
    List<Embedding> embeddings;
    try {
      List<EmbeddingInput> inputs = new ArrayList<>(group.size());
      for (Pending p : group) {
        inputs.add(new EmbeddingInput(p.text(), p.prompt().resolve(embedder), p.title()));
      }
      embeddings = run(embedder, inputs, dims);
    } catch (Throwable t) {
      Exception failure = asException(t);
      if (group.size() == 1) {
        fail(group, failure);
      } else {
        for (Pending p : group) {
          embedGroup(embedder, dims, List.of(p));
        }
      }
      return;
    }
    for (int i = 0; i < group.size(); i++) {
      stats.embedded(group.get(i).source(), 1);
      // One caller's failing callback must not leave the others of the batch waiting.
      try {
        group.get(i).listener().onResponse(embeddings.get(i));
      } catch (Exception e) {
        logger.warn("a caller's response handler failed", e);
      }
    }
  }

  /**
   * A failure to report to a caller. An {@link Error} from native code becomes an exception that
   * only describes it, because Elasticsearch stops the node when it finds an Error in a failure.
   */
  private static Exception asException(Throwable t) {
    if (t instanceof VirtualMachineError fatal) {
      throw fatal;
    }
    if (t instanceof Exception e) {
      return e;
    }
    return new IllegalStateException("embedding failed: " + ModelLoadException.describe(t));
  }

  private void fail(List<Pending> items, Exception e) {
    stats.failed(items.size());
    for (Pending p : items) {
      try {
        p.listener().onFailure(e);
      } catch (Exception handlerFailure) {
        logger.warn("a caller's failure handler failed", handlerFailure);
      }
    }
  }

  /** Single texts waiting to be taken into a batch. */
  public long pendingTexts() {
    return pending.values().stream().mapToLong(Queue::size).sum();
  }

  /** Tasks waiting in the queue of the pool that serves {@code source}; {@code thread_pool.<name>.queue_size} bounds it. */
  public long queuedTasks(EmbeddingStats.Source source) {
    return executors.apply(source) instanceof ThreadPoolExecutor pool ? pool.getQueue().size() : 0;
  }
}
