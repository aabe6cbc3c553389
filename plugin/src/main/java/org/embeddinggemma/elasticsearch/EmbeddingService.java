package org.embeddinggemma.elasticsearch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.common.util.concurrent.EsRejectedExecutionException;
import org.elasticsearch.tasks.CancellableTask;
import org.elasticsearch.tasks.TaskCancelledException;
import org.embeddinggemma.engine.ChunkingSettings;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.Passage;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.TextChunker;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.engine.TextRejectedException;
import org.embeddinggemma.engine.TokenizedText;

/**
 * Runs embeddings on the plugin's own bounded thread pools, never on Elasticsearch's transport,
 * write or search threads: documents and REST calls on {@value #THREAD_POOL_NAME}, queries on
 * {@value #SEARCH_THREAD_POOL_NAME}, so that a large bulk request never delays or rejects searches.
 *
 * <p>Single texts (one per ingested document or query) wait in a queue per model and pool. At most
 * as many pool tasks as the pool has threads work on one queue, each taking its share of the
 * waiting texts (up to four times {@code max_batch_size}), sorting them by length and running them
 * {@code max_batch_size} at a time, so a bulk request is embedded in batches although
 * processors see one document at a time, and the pool's own queue never fills with tasks that find
 * nothing to do. The bound is on texts waiting: past {@code embedding_gemma.max_pending_documents}
 * (or {@code max_pending_queries}) a text fails at once with {@link EsRejectedExecutionException}
 * (HTTP 429). Texts for a model that is still loading wait for it in the same queue.
 */
public final class EmbeddingService {

  private static final Logger logger = LogManager.getLogger(EmbeddingService.class);

  /** Name of the thread pool that embeds documents and REST texts. */
  public static final String THREAD_POOL_NAME = "embedding_gemma";

  /** Name of the thread pool that embeds query texts. */
  public static final String SEARCH_THREAD_POOL_NAME = "embedding_gemma_search";

  /** How many texts may wait per model, and how many texts a {@code _embed} request may hold. */
  public record Limits(int maxPendingDocuments, int maxPendingQueries, int maxEmbedTexts, long maxEmbedCharacters) {}

  private final ModelRegistry registry;
  private final String defaultModelId;
  private final EmbeddingStats stats;
  private final Function<EmbeddingStats.Source, ExecutorService> executors;
  private final int maxBatchSize;
  private final Limits limits;
  private final Map<String, Lane> lanes = new ConcurrentHashMap<>();

  /** Something waiting in a model's queue. */
  private sealed interface Waiting permits Pending, PendingPassages {
    ActionListener<?> listener();
  }

  private record Pending(
      String text, String title, PromptSpec prompt, Integer dims, EmbeddingStats.Source source, ActionListener<Embedding> listener)
      implements Waiting {}

  /** A document's texts to split into passages, each passage embedded. */
  private record PendingPassages(
      List<String> texts, String title, PromptSpec prompt, Integer dims, ChunkingSettings chunking,
      ActionListener<List<EmbeddedPassage>> listener) implements Waiting {}

  /**
   * One passage of a document's text, embedded.
   *
   * @param element the index of its text among the field's values (0 for a single string)
   * @param passage where it lies in that text
   * @param text the passage's text
   * @param embedding its vector
   * @param limited whether its document made more passages than the limit and only the first were kept
   */
  public record EmbeddedPassage(int element, Passage passage, String text, Embedding embedding, boolean limited) {}

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
      int maxBatchSize,
      Limits limits) {
    this.registry = registry;
    this.defaultModelId = defaultModelId;
    this.stats = stats;
    this.executors = executors;
    this.maxBatchSize = maxBatchSize;
    this.limits = limits;
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

  /** The limits in force. */
  public Limits limits() {
    return limits;
  }

  /**
   * Embeds one text, batched with other single texts waiting for the same model.
   *
   * @param dims Matryoshka dims, or null for the model's default
   */
  public void embed(
      String modelId, String text, String title, PromptSpec prompt, Integer dims, EmbeddingStats.Source source, ActionListener<Embedding> listener) {
    lane(modelId, source).offer(new Pending(text, title, prompt, dims, source, listener));
  }

  /** The queue of a model on the pool that serves {@code source}. */
  private Lane lane(String modelId, EmbeddingStats.Source source) {
    boolean query = source == EmbeddingStats.Source.QUERY;
    String pool = query ? SEARCH_THREAD_POOL_NAME : THREAD_POOL_NAME;
    return lanes.computeIfAbsent(
        pool + "/" + modelId, key -> new Lane(registry.model(modelId), source, query ? limits.maxPendingQueries() : limits.maxPendingDocuments()));
  }

  /**
   * Splits each of a document's texts into passages and embeds them all, in the model's queue with
   * single documents (so the same bound on waiting documents applies); the passages of the
   * documents taken together are embedded in batches sorted by length. A text with nothing to
   * embed, past the passage limit, or a bad setting fails the listener with an {@link
   * IllegalArgumentException}.
   */
  public void embedPassages(
      String modelId, List<String> texts, String title, PromptSpec prompt, Integer dims, ChunkingSettings chunking,
      ActionListener<List<EmbeddedPassage>> listener) {
    lane(modelId, EmbeddingStats.Source.DOCUMENT).offer(new PendingPassages(List.copyOf(texts), title, prompt, dims, chunking, listener));
  }

  /**
   * Embeds the texts of one request in one pool task, a batch at a time, shortest texts first;
   * stops between batches when {@code task} is cancelled.
   */
  public void embedAll(
      String modelId, List<String> texts, String title, PromptSpec prompt, Integer dims, EmbeddingStats.Source source,
      CancellableTask task, ActionListener<List<Embedding>> listener) {
    ModelHandle model = registry.model(modelId);
    model.whenSettled(() -> {
      try {
        executors.apply(source).execute(() -> embedAllNow(model, texts, title, prompt, dims, source, task, listener));
      } catch (EsRejectedExecutionException e) {
        stats.rejected(texts.size());
        listener.onFailure(e);
      }
    });
  }

  private void embedAllNow(
      ModelHandle model, List<String> texts, String title, PromptSpec prompt, Integer dims, EmbeddingStats.Source source,
      CancellableTask task, ActionListener<List<Embedding>> listener) {
    LoadedModel loaded = model.tryAcquire();
    if (loaded == null) {
      stats.failed(texts.size());
      listener.onFailure(model.unavailable());
      return;
    }
    try {
      TextEmbedder embedder = loaded.embedder();
      int resolvedDims = checkDims(model.id(), embedder, dims);
      PromptTemplate resolvedPrompt = prompt.resolve(embedder);
      List<TokenizedText> tokenized = new ArrayList<>(texts.size());
      for (int i = 0; i < texts.size(); i++) {
        try {
          tokenized.add(embedder.prepare(new EmbeddingInput(texts.get(i), resolvedPrompt, title)));
        } catch (TextRejectedException e) {
          throw e.at(i);
        }
      }
      List<Embedding> embeddings = runPlanned(embedder, tokenized, resolvedDims, task);
      stats.embedded(source, embeddings.size());
      listener.onResponse(embeddings);
    } catch (Throwable t) {
      stats.failed(texts.size());
      listener.onFailure(ModelErrors.forClient(model.id(), t));
    } finally {
      loaded.release();
    }
  }

  /** The dims to produce, checked against the model: one wording for pipelines, queries and {@code _embed}. */
  static int checkDims(String modelId, TextEmbedder embedder, Integer dims) {
    if (dims == null) {
      return embedder.defaultDims();
    }
    if (dims > embedder.modelDims()) {
      throw new IllegalArgumentException(dimsMessage(modelId, embedder.modelDims(), dims));
    }
    return dims;
  }

  /** Why a model cannot produce {@code dims}: the one wording of pipelines, queries and {@code _embed}. */
  public static String dimsMessage(String modelId, int modelDims, int dims) {
    return "[dims] model [" + modelId + "] has " + modelDims + " dims, cannot produce " + dims;
  }

  /**
   * Runs tokenised texts as the model's planner cuts them, in the order of {@code tokenized};
   * stops between runs when {@code task} is cancelled.
   */
  private List<Embedding> runPlanned(TextEmbedder embedder, List<TokenizedText> tokenized, int dims, CancellableTask task) {
    Embedding[] embeddings = new Embedding[tokenized.size()];
    int done = 0;
    for (int[] run : embedder.planner().plan(tokenized)) {
      if (task != null && task.isCancelled()) {
        throw new TaskCancelledException("cancelled after " + done + " of " + tokenized.size() + " texts: " + task.getReasonCancelled());
      }
      List<Embedding> batch = run(embedder, pick(tokenized, run), dims);
      for (int k = 0; k < run.length; k++) {
        embeddings[run[k]] = batch.get(k);
      }
      done += run.length;
    }
    return List.of(embeddings);
  }

  /** The elements of {@code list} at {@code indices}, in that order. */
  private static <T> List<T> pick(List<T> list, int[] indices) {
    List<T> picked = new ArrayList<>(indices.length);
    for (int index : indices) {
      picked.add(list.get(index));
    }
    return picked;
  }

  /** One model run, as planned by the model's {@link TextEmbedder#planner()}. */
  private List<Embedding> run(TextEmbedder embedder, List<TokenizedText> batch, int dims) {
    long start = System.nanoTime();
    List<Embedding> embeddings = embedder.embedTokenized(batch, dims);
    stats.inference(System.nanoTime() - start);
    int truncated = 0;
    for (Embedding embedding : embeddings) {
      truncated += embedding.truncated() ? 1 : 0;
    }
    stats.truncated(truncated);
    return embeddings;
  }

  /** The most batches one pool task takes from a model's waiting texts, to sort them by length. */
  static final int SORTED_BATCHES = 4;

  /** The texts waiting for one model on one pool, and the pool tasks working on them. */
  private final class Lane {
    private final ModelHandle model;
    private final EmbeddingStats.Source source;
    private final int maxPending;
    private final ConcurrentLinkedDeque<Waiting> items = new ConcurrentLinkedDeque<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger workers = new AtomicInteger();
    private final AtomicBoolean waitingForModel = new AtomicBoolean();

    Lane(ModelHandle model, EmbeddingStats.Source source, int maxPending) {
      this.model = model;
      this.source = source;
      this.maxPending = maxPending;
    }

    void offer(Waiting item) {
      if (pending.incrementAndGet() > maxPending) {
        pending.decrementAndGet();
        stats.rejected(1);
        String what = source == EmbeddingStats.Source.QUERY ? "queries" : "documents";
        item.listener().onFailure(new EsRejectedExecutionException(
            "rejected: " + maxPending + " " + what + " are already waiting to be embedded by model [" + model.id()
                + "] on this node, the most that [embedding_gemma.max_pending_" + what + "] allows", false));
        return;
      }
      items.add(item);
      schedule();
    }

    /** Starts pool tasks while there are texts and fewer tasks than threads; waits for a loading model. */
    void schedule() {
      if (model.state() == ModelHandle.State.LOADING) {
        if (waitingForModel.compareAndSet(false, true)) {
          model.whenSettled(() -> {
            waitingForModel.set(false);
            schedule();
          });
        }
        return;
      }
      ExecutorService executor = executors.apply(source);
      int threads = executor instanceof ThreadPoolExecutor pool ? pool.getMaximumPoolSize() : 1;
      while (true) {
        int running = workers.get();
        if (running >= threads || items.isEmpty()) {
          return;
        }
        if (workers.compareAndSet(running, running + 1)) {
          break;
        }
      }
      try {
        executor.execute(this::work);
      } catch (EsRejectedExecutionException e) {
        // The pool's queue is full of other models' and requests' tasks: this lane's texts wait
        // for its running tasks, or fail if it has none.
        if (workers.decrementAndGet() == 0) {
          fail(take(Integer.MAX_VALUE), e);
        }
      }
    }

    private List<Waiting> take(int most) {
      List<Waiting> batch = new ArrayList<>(Math.min(most, maxBatchSize));
      Waiting item;
      while (batch.size() < most && (item = items.poll()) != null) {
        batch.add(item);
      }
      pending.addAndGet(-batch.size());
      return batch;
    }

    /**
     * Up to four batches per task, sorted by length so that each batch pads its texts to a similar
     * length; few enough that a task ends soon and other models and {@code _embed} requests get
     * their turn on the pool. Waiting texts are shared among the pool's threads, so that none idles
     * while one works through a long queue.
     */
    private void work() {
      try {
        int threads = executors.apply(source) instanceof ThreadPoolExecutor pool ? pool.getMaximumPoolSize() : 1;
        int share = (pending.get() + threads - 1) / threads;
        List<Waiting> batch = take(Math.max(maxBatchSize, Math.min(share, maxBatchSize * SORTED_BATCHES)));
        if (!batch.isEmpty()) {
          process(batch);
        }
      } finally {
        workers.decrementAndGet();
      }
      schedule();
    }

    private void process(List<Waiting> batch) {
      LoadedModel loaded = model.tryAcquire();
      if (loaded == null) {
        if (model.state() == ModelHandle.State.LOADING) {
          // A reload of broken files started meanwhile: back to the front of the queue.
          for (int i = batch.size() - 1; i >= 0; i--) {
            items.addFirst(batch.get(i));
          }
          pending.addAndGet(batch.size());
          return;
        }
        fail(batch, model.unavailable());
        return;
      }
      try {
        TextEmbedder embedder = loaded.embedder();
        Map<Integer, List<Pending>> byDims = new LinkedHashMap<>();
        List<PendingPassages> documents = new ArrayList<>();
        for (Waiting waiting : batch) {
          if (waiting instanceof PendingPassages document) {
            documents.add(document);
            continue;
          }
          Pending p = (Pending) waiting;
          int dims;
          try {
            dims = checkDims(model.id(), embedder, p.dims());
          } catch (IllegalArgumentException e) {
            fail(List.of(p), e);
            continue;
          }
          byDims.computeIfAbsent(dims, d -> new ArrayList<>()).add(p);
        }
        byDims.forEach((dims, group) -> embedPlanned(model.id(), embedder, dims, group));
        if (!documents.isEmpty()) {
          embedDocuments(model.id(), embedder, documents);
        }
      } finally {
        loaded.release();
      }
    }
  }

  /**
   * Tokenises texts of one model and dims, and runs them as the model's planner cuts them: sorted
   * by length, by count and by padded tokens. A text with nothing to embed fails alone.
   */
  private void embedPlanned(String modelId, TextEmbedder embedder, int dims, List<Pending> group) {
    List<Pending> ready = new ArrayList<>(group.size());
    List<TokenizedText> tokenized = new ArrayList<>(group.size());
    for (Pending p : group) {
      try {
        tokenized.add(embedder.prepare(new EmbeddingInput(p.text(), p.prompt().resolve(embedder), p.title())));
        ready.add(p);
      } catch (RuntimeException e) {
        fail(List.of(p), ModelErrors.forClient(modelId, e));
      }
    }
    for (int[] run : embedder.planner().plan(tokenized)) {
      embedRun(modelId, embedder, dims, pick(ready, run), pick(tokenized, run));
    }
  }

  /**
   * Embeds texts of one model and dims in one run. If the run fails and held several texts, each is
   * retried alone, so that a text the model cannot take fails by itself and never takes the other
   * documents of a bulk request with it.
   */
  private void embedRun(String modelId, TextEmbedder embedder, int dims, List<Pending> group, List<TokenizedText> tokenized) {
    List<Embedding> embeddings;
    try {
      embeddings = run(embedder, tokenized, dims);
    } catch (Throwable t) {
      Exception failure = ModelErrors.forClient(modelId, t);
      if (group.size() == 1) {
        fail(group, failure);
      } else {
        for (int i = 0; i < group.size(); i++) {
          embedRun(modelId, embedder, dims, List.of(group.get(i)), List.of(tokenized.get(i)));
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
   * Chunks each document's texts and embeds all their passages in one sorted run per dims; if a run
   * fails, each document is run alone, so that one bad document fails by itself.
   */
  private void embedDocuments(String modelId, TextEmbedder embedder, List<PendingPassages> documents) {
    Map<Integer, List<Chunked>> byDims = new LinkedHashMap<>();
    for (PendingPassages document : documents) {
      try {
        int dims = checkDims(modelId, embedder, document.dims());
        TextChunker chunker = new TextChunker(embedder, document.chunking());
        PromptTemplate prompt = document.prompt().resolve(embedder);
        List<TextChunker.Chunks> chunks = chunker.chunk(document.texts(), prompt, document.title());
        byDims.computeIfAbsent(dims, d -> new ArrayList<>()).add(new Chunked(document, prompt, chunks));
      } catch (RuntimeException e) {
        fail(List.of(document), e);
      }
    }
    byDims.forEach((dims, group) -> embedChunked(modelId, embedder, dims, group));
  }

  private record Chunked(PendingPassages document, PromptTemplate prompt, List<TextChunker.Chunks> chunks) {
    List<EmbeddingInput> inputs() {
      List<EmbeddingInput> inputs = new ArrayList<>();
      for (int i = 0; i < chunks.size(); i++) {
        inputs.addAll(chunks.get(i).inputs(document.texts().get(i), prompt, document.title()));
      }
      return inputs;
    }
  }

  private void embedChunked(String modelId, TextEmbedder embedder, int dims, List<Chunked> group) {
    List<EmbeddingInput> inputs = new ArrayList<>();
    for (Chunked chunked : group) {
      inputs.addAll(chunked.inputs());
    }
    List<Embedding> embeddings;
    try {
      List<TokenizedText> tokenized = new ArrayList<>(inputs.size());
      for (EmbeddingInput input : inputs) {
        tokenized.add(embedder.prepare(input));
      }
      embeddings = runPlanned(embedder, tokenized, dims, null);
    } catch (Throwable t) {
      Exception failure = ModelErrors.forClient(modelId, t);
      if (group.size() == 1) {
        fail(List.of(group.get(0).document()), failure);
      } else {
        for (Chunked chunked : group) {
          embedChunked(modelId, embedder, dims, List.of(chunked));
        }
      }
      return;
    }
    int next = 0;
    for (Chunked chunked : group) {
      List<EmbeddedPassage> passages = new ArrayList<>();
      // The limit is the document's: texts past it made no passages at all.
      boolean limited = chunked.chunks().stream().anyMatch(TextChunker.Chunks::limited);
      for (int element = 0; element < chunked.chunks().size(); element++) {
        TextChunker.Chunks chunks = chunked.chunks().get(element);
        String text = chunked.document().texts().get(element);
        for (Passage passage : chunks.passages()) {
          passages.add(new EmbeddedPassage(element, passage, passage.text(text), embeddings.get(next++), limited));
        }
      }
      stats.embedded(EmbeddingStats.Source.DOCUMENT, 1);
      try {
        chunked.document().listener().onResponse(passages);
      } catch (Exception e) {
        logger.warn("a caller's response handler failed", e);
      }
    }
  }

  private void fail(List<? extends Waiting> items, Exception e) {
    stats.failed(items.size());
    for (Waiting p : items) {
      try {
        p.listener().onFailure(e);
      } catch (Exception handlerFailure) {
        logger.warn("a caller's failure handler failed", handlerFailure);
      }
    }
  }

  /** Single texts waiting to be taken into a batch, documents and queries. */
  public long pendingTexts(EmbeddingStats.Source source) {
    String prefix = (source == EmbeddingStats.Source.QUERY ? SEARCH_THREAD_POOL_NAME : THREAD_POOL_NAME) + "/";
    long total = 0;
    for (Map.Entry<String, Lane> lane : lanes.entrySet()) {
      if (lane.getKey().startsWith(prefix)) {
        total += lane.getValue().pending.get();
      }
    }
    return total;
  }

  /** Tasks waiting in the queue of the pool that serves {@code source}; {@code thread_pool.<name>.queue_size} bounds it. */
  public long queuedTasks(EmbeddingStats.Source source) {
    return executors.apply(source) instanceof ThreadPoolExecutor pool ? pool.getQueue().size() : 0;
  }
}
