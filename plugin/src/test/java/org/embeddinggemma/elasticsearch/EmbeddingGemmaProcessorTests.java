package org.embeddinggemma.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.elasticsearch.ElasticsearchParseException;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.util.concurrent.EsExecutors;
import org.elasticsearch.common.util.concurrent.EsRejectedExecutionException;
import org.elasticsearch.common.util.concurrent.ThreadContext;
import org.elasticsearch.ingest.IngestDocument;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The factory's validation and the processor's execution, with a real model and a real pool. */
class EmbeddingGemmaProcessorTests {

  static final EmbeddingService.Limits LIMITS = new EmbeddingService.Limits(10_000, 1000, 256, 1_000_000);

  static ExecutorService pool;
  static ModelRegistry registry;
  static EmbeddingService service;
  static EmbeddingGemmaProcessor.Factory factory;

  @BeforeAll
  static void setUp(@TempDir Path config) throws Exception {
    // Outside a node nothing has set up Elasticsearch's logging, which its exceptions need.
    LogConfigurator.configureESLogging();
    Path models = Files.createDirectories(config.resolve(ModelRegistry.MODELS_FOLDER));
    Files.createSymbolicLink(models.resolve("minilm"), TestModels.miniLm());
    // A graph that embeds short texts and fails on texts of more than 12 tokens.
    Path shortWindow = Files.createDirectories(models.resolve("short-window"));
    TestModels.shortWindowEncoder(12).write(shortWindow.resolve("model.onnx"), Long.MAX_VALUE);
    Files.copy(TestModels.miniLmTokenizer(), shortWindow.resolve("tokenizer.json"));
    Files.writeString(shortWindow.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    pool = EsExecutors.newFixed("test", 2, 100, EsExecutors.daemonThreadFactory("test", "embedding"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    registry = new ModelRegistry(config, new EmbedderSettings(1, 8), task -> pool.execute(task));
    service = new EmbeddingService(registry, "minilm", new EmbeddingStats(), source -> pool, 8, LIMITS);
    factory = new EmbeddingGemmaProcessor.Factory(service, true);
  }

  @AfterAll
  static void tearDown() throws Exception {
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    registry.close();
  }

  static Map<String, Object> config(Object... keysAndValues) {
    Map<String, Object> config = new HashMap<>(Map.of("field", "text", "target_field", "vector"));
    for (int i = 0; i < keysAndValues.length; i += 2) {
      config.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return config;
  }

  /** The error of creating the processor and validating it as a put pipeline request does. */
  static String configError(Object... keysAndValues) {
    return assertThrows(ElasticsearchParseException.class, () -> factory.create(Map.of(), "tag", null, config(keysAndValues), null).extraValidation())
        .getMessage();
  }

  /** The model, loaded in the background and waited for. */
  static TextEmbedder loaded(String modelId) throws Exception {
    CompletableFuture<Void> settled = new CompletableFuture<>();
    registry.model(modelId).whenSettled(() -> settled.complete(null));
    settled.get(60, TimeUnit.SECONDS);
    return registry.model(modelId).loadedEmbedder();
  }

  @Test
  void factoryRejectsEachBadOptionByName() throws Exception {
    loaded("minilm");
    assertEquals("[dims] model [minilm] has 384 dims, cannot produce 385", configError("dims", 385));
    assertEquals("[dims] must be at least 1, got -1", configError("dims", -1));
    assertEquals("[element_type] unknown element_type [bits]; expected one of [byte, float]", configError("element_type", "bits"));
    assertEquals("[task] [task] and [prompt] cannot both be set; use one", configError("task", "query", "prompt", "q: "));
    assertEquals("[prompt] [prompt] must not be empty; use \"task\": \"none\" for no prompt", configError("prompt", ""));
    assertEquals(
        "[model_id] model_id [..] is invalid: use only letters, digits, '-', '_' and '.', and not '.' or '..'",
        configError("model_id", ".."));
    assertEquals(
        "[model_id] model [absent] is not installed on this node: no folder [embedding-gemma/absent] in its config directory;"
            + " installed models: [minilm, short-window]",
        configError("model_id", "absent"));
    assertEquals("[truncated_field] has nothing to record with [truncate] false: texts that are too long fail instead",
        configError("truncate", false, "truncated_field", "cut"));
    assertEquals("[dims] property cannot be converted to an int [many]", configError("dims", "many"));
  }

  @Test
  void processorWritesTheEnginesVector() throws Exception {
    EmbeddingGemmaProcessor processor = factory.create(Map.of(), "tag", null, config("dims", 64, "element_type", "float"), null);
    IngestDocument document = new IngestDocument("index", "1", 1, null, null, new HashMap<>(Map.of("text", "The heart beats a hundred thousand times a day.")));
    CompletableFuture<IngestDocument> done = new CompletableFuture<>();
    processor.execute(document, (result, e) -> {
      if (e != null) {
        done.completeExceptionally(e);
      } else {
        done.complete(result);
      }
    });
    IngestDocument result = done.get(30, TimeUnit.SECONDS);
    assertSame(document, result);
    List<?> vector = result.getFieldValue("vector", List.class);
    TextEmbedder model = loaded("minilm");
    Embedding expected = model.embed(EmbeddingInput.of("The heart beats a hundred thousand times a day.", PromptTemplate.NONE), 64);
    assertEquals(64, vector.size());
    for (int i = 0; i < 64; i++) {
      assertEquals(expected.vector()[i], ((Number) vector.get(i)).floatValue());
    }
  }

  @Test
  void documentErrorsNameTheField() throws Exception {
    EmbeddingGemmaProcessor processor = factory.create(Map.of(), "tag", null, config("title_field", "title"), null);
    assertEquals("field [text] is empty: there is no text to embed", failure(processor, Map.of("text", "")));
    assertEquals("field [text] is an array: only a string can be embedded", failure(processor, Map.of("text", new ArrayList<>(List.of("a")))));
    assertEquals("field [text] is an object: only a string can be embedded", failure(processor, Map.of("text", new HashMap<>(Map.of("a", 1)))));
    assertEquals("field [text] is a number: only a string can be embedded", failure(processor, Map.of("text", 42)));
    assertEquals("field [text] not present as part of path [text]", failure(processor, Map.of("other", "x")));
    assertEquals("title_field [title] is a number: a title must be a string", failure(processor, Map.of("text", "x", "title", 3)));
    for (String nothing : List.of("\u200b\u200b", "\u0000", "\ud800")) {
      assertEquals(
          "field [text] has nothing to embed: it holds only whitespace, control, format or unpaired surrogate characters",
          failure(processor, Map.of("text", nothing)));
    }
  }

  @Test
  void documentsPastTheWaitingBoundAreRejectedAndNoOthers() throws Exception {
    ExecutorService single = EsExecutors.newFixed("single", 1, 1000, EsExecutors.daemonThreadFactory("test", "bound"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    try {
      loaded("minilm");
      EmbeddingStats stats = new EmbeddingStats();
      EmbeddingService bounded = new EmbeddingService(registry, "minilm", stats, source -> single, 4, new EmbeddingService.Limits(10, 10, 256, 1_000_000));
      CountDownLatch release = holdOnlyThread(single);
      List<CompletableFuture<Embedding>> results = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        results.add(embedDocument(bounded, "minilm", "text number " + i));
      }
      assertEquals(1, ((ThreadPoolExecutor) single).getQueue().size(), "one pool task for the model's queue, not one per text");
      release.countDown();
      int rejected = 0;
      for (CompletableFuture<Embedding> result : results) {
        try {
          assertEquals(384, result.get(30, TimeUnit.SECONDS).dims());
        } catch (ExecutionException e) {
          assertEquals(
              "rejected: 10 documents are already waiting to be embedded by model [minilm] on this node, the most that"
                  + " [embedding_gemma.max_pending_documents] allows",
              e.getCause().getMessage());
          assertTrue(e.getCause() instanceof EsRejectedExecutionException);
          rejected++;
        }
      }
      assertEquals(40, rejected, "10 may wait while the pool is busy");
      assertEquals(40L, stats.toMap().get("rejections"));
    } finally {
      single.shutdown();
    }
  }

  @Test
  void aTextTheModelCannotTakeFailsAloneAndNotItsBatch() throws Exception {
    ExecutorService single = EsExecutors.newFixed("single", 1, 10, EsExecutors.daemonThreadFactory("test", "single"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    try {
      EmbeddingService batching = new EmbeddingService(registry, "short-window", new EmbeddingStats(), source -> single, 8, LIMITS);
      loaded("short-window");
      // All three texts wait while the only thread is held, and are taken into one batch.
      CountDownLatch release = holdOnlyThread(single);
      List<CompletableFuture<Embedding>> results = new ArrayList<>();
      for (String text : List.of("a", "a b c d e f g h i j k l m n", "a a")) {
        results.add(embedDocument(batching, "short-window", text));
      }
      release.countDown();
      assertEquals(8, results.get(0).get(30, TimeUnit.SECONDS).dims());
      assertEquals(8, results.get(2).get(30, TimeUnit.SECONDS).dims());
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> results.get(1).get(30, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().startsWith("ONNX Runtime failed on a batch of 1 texts of up to 16 tokens"), e.getCause().getMessage());
    } finally {
      single.shutdown();
    }
  }

  @Test
  void waitingTextsAreSortedByLengthAcrossBatches() throws Exception {
    ExecutorService single = EsExecutors.newFixed("single", 1, 10, EsExecutors.daemonThreadFactory("test", "sorting"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    try {
      loaded("short-window");
      EmbeddingStats stats = new EmbeddingStats();
      EmbeddingService sorting = new EmbeddingService(registry, "short-window", stats, source -> single, 4, LIMITS);
      CountDownLatch release = holdOnlyThread(single);
      // In arrival order every batch of 4 would hold two texts the graph cannot take, and fail.
      List<CompletableFuture<Embedding>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        results.add(embedDocument(sorting, "short-window", i % 2 == 0 ? "a" : "a b c d e f g h i j k l m n"));
      }
      release.countDown();
      for (int i = 0; i < 16; i++) {
        if (i % 2 == 0) {
          assertEquals(8, results.get(i).get(30, TimeUnit.SECONDS).dims());
        } else {
          int text = i;
          assertThrows(ExecutionException.class, () -> results.get(text).get(30, TimeUnit.SECONDS));
        }
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> inference = (Map<String, Object>) stats.toMap().get("inference");
      assertEquals(2L, inference.get("count"), "the 8 short texts in 2 batches of their own");
      assertEquals(8L, stats.toMap().get("failures"));
    } finally {
      single.shutdown();
    }
  }

  /** Occupies the executor's only thread until the returned latch is released. */
  private static CountDownLatch holdOnlyThread(ExecutorService single) {
    CountDownLatch release = new CountDownLatch(1);
    single.execute(() -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    return release;
  }

  private static CompletableFuture<Embedding> embedDocument(EmbeddingService service, String modelId, String text) {
    CompletableFuture<Embedding> result = new CompletableFuture<>();
    service.embed(modelId, text, null, PromptSpec.parse("none", null, null), null, EmbeddingStats.Source.DOCUMENT,
        ActionListener.wrap(result::complete, result::completeExceptionally));
    return result;
  }

  private static String failure(EmbeddingGemmaProcessor processor, Map<String, Object> source) throws Exception {
    CompletableFuture<Exception> failure = new CompletableFuture<>();
    processor.execute(new IngestDocument("index", "1", 1, null, null, new HashMap<>(source)), (result, e) -> {
      assertNull(result);
      failure.complete(e);
    });
    return failure.get(30, TimeUnit.SECONDS).getMessage();
  }
}
