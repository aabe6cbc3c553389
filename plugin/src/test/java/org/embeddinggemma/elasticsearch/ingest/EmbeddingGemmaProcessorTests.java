package org.embeddinggemma.elasticsearch.ingest;

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
import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.util.concurrent.EsExecutors;
import org.elasticsearch.common.util.concurrent.EsRejectedExecutionException;
import org.elasticsearch.common.util.concurrent.ThreadContext;
import org.elasticsearch.ingest.IngestDocument;
import org.embeddinggemma.elasticsearch.EmbeddingService;
import org.embeddinggemma.elasticsearch.EmbeddingStats;
import org.embeddinggemma.elasticsearch.ModelRegistry;
import org.embeddinggemma.elasticsearch.PromptSpec;
import org.embeddinggemma.engine.ChunkingSettings;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.Passage;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextChunker;
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
    Files.createSymbolicLink(models.resolve("gemma-shaped"), TestModels.gemmaShaped(TestModels.Layout.EXPORT));
    // A graph that embeds short texts and fails on texts of more than 12 tokens, though its config declares 64.
    Path shortWindow = Files.createDirectories(models.resolve("short-window"));
    TestModels.shortWindowEncoder(12).write(shortWindow.resolve("model.onnx"), Long.MAX_VALUE);
    Files.copy(TestModels.miniLmTokenizer(), shortWindow.resolve("tokenizer.json"));
    Files.writeString(shortWindow.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    Files.writeString(shortWindow.resolve("config.json"), "{\"max_position_embeddings\": 64}");
    pool = EsExecutors.newFixed("test", 2, 100, EsExecutors.daemonThreadFactory("test", "embedding"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    registry = new ModelRegistry(config, new EmbedderSettings(1, 8), task -> pool.execute(task));
    service = new EmbeddingService(registry, "minilm", new EmbeddingStats(), source -> pool, 8, LIMITS);
    factory = new EmbeddingGemmaProcessorFactory(service, true);
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
    return assertThrows(ElasticsearchParseException.class, () -> factory.create("tag", null, config(keysAndValues)).extraValidation())
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
            + " installed models: [gemma-shaped, minilm, short-window]",
        configError("model_id", "absent"));
    assertEquals("[truncated_field] has nothing to record with [truncate] false: texts that are too long fail instead",
        configError("truncate", false, "truncated_field", "cut"));
    assertEquals("[dims] property cannot be converted to an int [many]", configError("dims", "many"));
  }

  @Test
  void processorWritesTheEnginesVector() throws Exception {
    EmbeddingGemmaProcessor processor = factory.create("tag", null, config("dims", 64, "element_type", "float", "fingerprint_field", "model"));
    IngestDocument result = run(processor, Map.of("text", "The heart beats a hundred thousand times a day."));
    List<?> vector = result.getFieldValue("vector", List.class);
    TextEmbedder model = loaded("minilm");
    assertEquals(model.fingerprint().value(), result.getFieldValue("model", String.class));
    Embedding expected = model.embed(EmbeddingInput.of("The heart beats a hundred thousand times a day.", PromptTemplate.NONE), 64);
    assertEquals(64, vector.size());
    for (int i = 0; i < 64; i++) {
      assertEquals(expected.vector()[i], ((Number) vector.get(i)).floatValue());
    }
  }

  @Test
  void documentErrorsNameTheField() throws Exception {
    EmbeddingGemmaProcessor processor = factory.create("tag", null, config("title_field", "title"));
    assertEquals("field [text] is empty: there is no text to embed", failure(processor, Map.of("text", "")));
    assertEquals(
        "field [text] is an array: only a string can be embedded; set [chunking] to embed each element's passages",
        failure(processor, Map.of("text", new ArrayList<>(List.of("a")))));
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
    ExecutorService single = singleThread("bound", 1000);
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
    ExecutorService single = singleThread("single", 10);
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
      assertEquals(
          "model [short-window] cannot embed the text: the model failed on a text of 16 tokens: Non-zero status code returned while"
              + " running Add node. Name:'Add_5' Status Message: axis == 1 || axis == largest was false. Attempting to broadcast an axis by"
              + " a dimension other than 1. 12 by 16",
          e.getCause().getMessage());
      assertEquals(RestStatus.BAD_REQUEST, ((ElasticsearchStatusException) e.getCause()).status(), "the text's fault, not the node's");
    } finally {
      single.shutdown();
    }
  }

  @Test
  void waitingTextsAreSortedByLengthAcrossBatches() throws Exception {
    ExecutorService single = singleThread("sorting", 10);
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
      assertEquals(1L, inference.get("count"), "the 8 short texts in one run of their own, the model's batch size");
      assertEquals(8L, stats.toMap().get("failures"));
    } finally {
      single.shutdown();
    }
  }

  /** A pool of one thread, as the plugin's pools are built, with a queue of {@code queueSize} tasks. */
  private static ExecutorService singleThread(String name, int queueSize) {
    return EsExecutors.newFixed(
        "single", 1, queueSize, EsExecutors.daemonThreadFactory("test", name), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
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

  @Test
  void chunkingOptionsAreCheckedByName() throws Exception {
    loaded("minilm");
    assertEquals("[chunking] [strategy] unknown chunking strategy [words]; expected one of [sentence, tokens]",
        configError("chunking", new HashMap<>(Map.of("strategy", "words"))));
    assertEquals("[chunking] max_tokens must be at least 8, got 2", configError("chunking", new HashMap<>(Map.of("max_tokens", 2))));
    assertEquals("[chunking] overlap must be less than half of max_tokens [64], got 40",
        configError("chunking", new HashMap<>(Map.of("strategy", "tokens", "max_tokens", 64, "overlap", 40))));
    assertEquals("[chunking] max_passages must be at least 1, got 0", configError("chunking", new HashMap<>(Map.of("max_passages", 0))));
    assertEquals("[chunking] [on_too_many_passages] must be [fail] or [keep_first], got [merge]",
        configError("chunking", new HashMap<>(Map.of("on_too_many_passages", "merge"))));
    assertEquals("[chunking] unknown options [size]; expected strategy, max_tokens, overlap, max_passages, on_too_many_passages and include_text",
        configError("chunking", new HashMap<>(Map.of("size", 100))));
    assertEquals("[chunking] [max_tokens] 512 exceeds the 256 tokens model [minilm] takes",
        configError("chunking", new HashMap<>(Map.of("max_tokens", 512))));
    assertEquals("[max_tokens] property cannot be converted to an int [many]", configError("chunking", new HashMap<>(Map.of("max_tokens", "many"))));
  }

  @Test
  void chunkingWritesOnePassageObjectPerPassageWithTheEnginesVectors() throws Exception {
    EmbeddingGemmaProcessor processor = factory.create("tag", null, config(
        "element_type", "float", "truncated_field", "limited", "fingerprint_field", "model",
        "chunking", new HashMap<>(Map.of("max_tokens", 24, "overlap", 0))));
    String first = "The heart beats a hundred thousand times a day. Blood carries oxygen from the lungs to every cell of the body. "
        + "Red blood cells live for about four months.";
    String second = "Vaccines train the immune system.";
    IngestDocument result = run(processor, Map.of("text", new ArrayList<>(List.of(first, second))));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> passages = (List<Map<String, Object>>) result.getFieldValue("vector", List.class);
    TextEmbedder model = loaded("minilm");
    TextChunker chunker = new TextChunker(model, new ChunkingSettings(ChunkingSettings.Strategy.SENTENCE, 24, 0, 100, false));
    List<Passage> expected = chunker.chunk(first, PromptTemplate.NONE, null).passages();
    assertEquals(expected.size() + 1, passages.size());
    for (int i = 0; i < passages.size(); i++) {
      Map<String, Object> passage = passages.get(i);
      int element = i < expected.size() ? 0 : 1;
      String text = element == 0 ? first : second;
      assertEquals(List.of("vector", "text", "element", "start_offset", "end_offset"), List.copyOf(passage.keySet()));
      assertEquals(element, passage.get("element"));
      int start = (Integer) passage.get("start_offset");
      int end = (Integer) passage.get("end_offset");
      assertEquals(text.substring(start, end), passage.get("text"));
      Embedding alone = model.embed(EmbeddingInput.of(text.substring(start, end), PromptTemplate.NONE), 384);
      List<?> vector = (List<?>) passage.get("vector");
      double cosine = 0;
      for (int d = 0; d < 384; d++) {
        cosine += alone.vector()[d] * ((Number) vector.get(d)).floatValue();
      }
      assertEquals(1.0, cosine, 1e-3, "passage " + i + " embeds as its text alone");
    }
    assertEquals(false, result.getFieldValue("limited", Boolean.class));
    assertEquals(model.fingerprint().value(), result.getFieldValue("model", String.class));
  }

  @Test
  void everyPassageGetsTheTitleInItsDocumentPrompt() throws Exception {
    TextEmbedder gemma = loaded("gemma-shaped");
    EmbeddingGemmaProcessor processor = factory.create("tag", null, config(
        "model_id", "gemma-shaped", "title_field", "title", "element_type", "float", "dims", 128,
        "chunking", new HashMap<>(Map.of("max_tokens", 32, "overlap", 0))));
    String text = "Jupiter has a storm larger than the Earth. Mars is red because of iron oxide. Saturn has rings of ice and rock.";
    IngestDocument result = run(processor, Map.of("text", text, "title", "Planets"));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> passages = (List<Map<String, Object>>) result.getFieldValue("vector", List.class);
    assertTrue(passages.size() >= 2, passages.size() + " passages");
    for (Map<String, Object> passage : passages) {
      String passageText = (String) passage.get("text");
      float[] withTitle = gemma.embed(new EmbeddingInput(passageText, gemma.prompt(Task.DOCUMENT), "Planets"), 128).vector();
      float[] withoutTitle = gemma.embed(new EmbeddingInput(passageText, gemma.prompt(Task.DOCUMENT), null), 128).vector();
      List<?> vector = (List<?>) passage.get("vector");
      for (int d = 0; d < 128; d++) {
        assertEquals(withTitle[d], ((Number) vector.get(d)).floatValue(), 1e-5, "dimension " + d + " of [" + passageText + "]");
      }
      assertTrue(withTitle[0] != withoutTitle[0] || withTitle[1] != withoutTitle[1], "the title changes the vector");
    }
  }

  @Test
  void chunkingErrorsNameTheFieldAndTheLimit() throws Exception {
    loaded("minilm");
    String longText = "The heart beats a hundred thousand times a day. ".repeat(30);
    EmbeddingGemmaProcessor strict = factory.create("tag", null, config(
        "chunking", new HashMap<>(Map.of("max_tokens", 16, "max_passages", 3, "overlap", 0))));
    assertEquals(
        "field [text] makes 30 passages of at most 16 tokens, more than the 3 allowed; raise the passage limit, use longer passages, or keep only the first passages",
        failure(strict, Map.of("text", longText)));
    assertEquals(
        "field [text][0] makes 30 passages of at most 16 tokens, more than the 3 allowed; raise the passage limit, use longer passages, or keep only the first passages",
        failure(strict, Map.of("text", new ArrayList<>(List.of(longText, "short")))));
    // The limit is the document's: the short text's passage counts against it.
    assertEquals(
        "field [text] makes more than 3 passages of at most 16 tokens, the most allowed for one document (texts 0 to 1 make more);"
            + " raise the passage limit, use longer passages, or keep only the first passages",
        failure(strict, Map.of("text", new ArrayList<>(List.of("short", longText)))));
    assertEquals(
        "field [text] makes more than 3 passages of at most 16 tokens, the most allowed for one document (4 texts make more);"
            + " raise the passage limit, use longer passages, or keep only the first passages",
        failure(strict, Map.of("text", new ArrayList<>(List.of("a", "b", "c", "d")))));
    assertEquals("field [text] is an empty array: there is no text to embed", failure(strict, Map.of("text", new ArrayList<>())));
    assertEquals("field [text][1] is a number: only a string can be embedded", failure(strict, Map.of("text", new ArrayList<>(List.of("a", 5)))));
    assertEquals("field [text][0] is empty: there is no text to embed", failure(strict, Map.of("text", new ArrayList<>(List.of(" ")))));

    EmbeddingGemmaProcessor keepFirst = factory.create("tag", null, config(
        "truncated_field", "limited", "chunking",
        new HashMap<>(Map.of("max_tokens", 16, "max_passages", 3, "overlap", 0, "on_too_many_passages", "keep_first", "include_text", false))));
    IngestDocument kept = run(keepFirst, Map.of("text", longText));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> passages = (List<Map<String, Object>>) kept.getFieldValue("vector", List.class);
    assertEquals(3, passages.size());
    assertEquals(List.of("vector", "start_offset", "end_offset"), List.copyOf(passages.get(0).keySet()));
    assertEquals(true, kept.getFieldValue("limited", Boolean.class));
    // Strings past the document's limit make no passages, and the document says it was limited.
    IngestDocument strings = run(keepFirst, Map.of("text", new ArrayList<>(List.of("a", "b", "c", "d", "e"))));
    assertEquals(3, strings.getFieldValue("vector", List.class).size());
    assertEquals(true, strings.getFieldValue("limited", Boolean.class));
  }

  /** Runs the processor on a document of {@code source}; the result is that same document. */
  private static IngestDocument run(EmbeddingGemmaProcessor processor, Map<String, Object> source) throws Exception {
    CompletableFuture<IngestDocument> done = new CompletableFuture<>();
    IngestDocument document = new IngestDocument("index", "1", 1, null, null, new HashMap<>(source));
    processor.execute(document, (result, e) -> {
      if (e != null) {
        done.completeExceptionally(e);
      } else {
        done.complete(result);
      }
    });
    IngestDocument result = done.get(30, TimeUnit.SECONDS);
    assertSame(document, result);
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
