package org.embeddinggemma.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.elasticsearch.ElasticsearchParseException;
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
import org.embeddinggemma.testing.OnnxGraphWriter;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The factory's validation and the processor's execution, with a real model and a real pool. */
class EmbeddingGemmaProcessorTests {

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
    // A graph that loads but cannot take token ids from 2000 up, which MiniLM's tokenizer produces.
    Path mismatched = Files.createDirectories(models.resolve("mismatched"));
    TestModels.tinyEncoder("input_ids", "attention_mask", "last_hidden_state", OnnxGraphWriter.FLOAT).write(mismatched.resolve("model.onnx"), Long.MAX_VALUE);
    Files.copy(TestModels.miniLmTokenizer(), mismatched.resolve("tokenizer.json"));
    Files.writeString(mismatched.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    pool = EsExecutors.newFixed("test", 2, 100, EsExecutors.daemonThreadFactory("test", "embedding"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    registry = new ModelRegistry(config, new EmbedderSettings(1, 8));
    service = new EmbeddingService(registry, "minilm", new EmbeddingStats(), source -> pool, 8);
    factory = new EmbeddingGemmaProcessor.Factory(service);
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

  static String configError(Object... keysAndValues) {
    return assertThrows(ElasticsearchParseException.class, () -> factory.create(Map.of(), "tag", null, config(keysAndValues), null)).getMessage();
  }

  @Test
  void factoryRejectsEachBadOptionByName() {
    assertEquals("[dims] model [minilm] has 384 dims, cannot produce 385", configError("dims", 385));
    assertEquals("[dims] must be at least 1, got -1", configError("dims", -1));
    assertEquals("[element_type] unknown element_type [bits]; expected one of [byte, float]", configError("element_type", "bits"));
    assertEquals("[task] [task] and [prompt] cannot both be set; use one", configError("task", "query", "prompt", "q: "));
    assertEquals("[prompt] [prompt] must not be empty; use \"task\": \"none\" for no prompt", configError("prompt", ""));
    assertEquals(
        "[model_id] model_id [..] is invalid: use only letters, digits, '-', '_' and '.', and not '.' or '..'",
        configError("model_id", ".."));
    assertTrue(configError("model_id", "absent").startsWith("[model_id] model [absent] is not installed: no directory ["));
    assertTrue(configError("model_id", "absent").endsWith("]; installed models: [minilm, mismatched]"));
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
    TextEmbedder model = registry.get("minilm");
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
    assertEquals("field [text] is of type [java.util.ArrayList]: only a string can be embedded", failure(processor, Map.of("text", new java.util.ArrayList<>(List.of("a")))));
    assertEquals("field [text] not present as part of path [text]", failure(processor, Map.of("other", "x")));
    assertEquals("title_field [title] is of type [java.lang.Integer]: a title must be a string", failure(processor, Map.of("text", "x", "title", 3)));
  }

  @Test
  void fullQueueRejectsWithEsRejectedExecutionException() throws Exception {
    ExecutorService tiny = EsExecutors.newFixed("tiny", 1, 1, EsExecutors.daemonThreadFactory("test", "tiny"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    try {
      EmbeddingStats stats = new EmbeddingStats();
      EmbeddingService small = new EmbeddingService(registry, "minilm", stats, source -> tiny, 1);
      List<CompletableFuture<Embedding>> results = new java.util.ArrayList<>();
      for (int i = 0; i < 50; i++) {
        CompletableFuture<Embedding> result = new CompletableFuture<>();
        small.embed("minilm", "text number " + i, null, PromptSpec.parse("none", null, null), null, EmbeddingStats.Source.DOCUMENT,
            org.elasticsearch.action.ActionListener.wrap(result::complete, result::completeExceptionally));
        results.add(result);
      }
      int rejected = 0;
      for (CompletableFuture<Embedding> result : results) {
        try {
          assertEquals(384, result.get(30, TimeUnit.SECONDS).dims());
        } catch (java.util.concurrent.ExecutionException e) {
          assertTrue(e.getCause() instanceof EsRejectedExecutionException, e.getCause().toString());
          rejected++;
        }
      }
      assertTrue(rejected > 0 && rejected < 50, "rejected " + rejected);
      assertEquals((long) rejected, stats.toMap().get("rejections"));
    } finally {
      tiny.shutdown();
    }
  }

  @Test
  void aTextTheModelCannotTakeFailsAloneAndNotItsBatch() throws Exception {
    ExecutorService single = EsExecutors.newFixed("single", 1, 10, EsExecutors.daemonThreadFactory("test", "single"), new ThreadContext(Settings.EMPTY), EsExecutors.TaskTrackingConfig.DO_NOT_TRACK);
    try {
      EmbeddingService batching = new EmbeddingService(registry, "mismatched", new EmbeddingStats(), source -> single, 8);
      registry.get("mismatched");
      // Hold the only thread so that all three texts wait and are taken into one batch.
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      single.execute(() -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      List<CompletableFuture<Embedding>> results = new java.util.ArrayList<>();
      for (String text : List.of("a", "hello", "a a")) {
        CompletableFuture<Embedding> result = new CompletableFuture<>();
        batching.embed("mismatched", text, null, PromptSpec.parse("none", null, null), null, EmbeddingStats.Source.DOCUMENT,
            org.elasticsearch.action.ActionListener.wrap(result::complete, result::completeExceptionally));
        results.add(result);
      }
      release.countDown();
      assertEquals(8, results.get(0).get(30, TimeUnit.SECONDS).dims());
      assertEquals(8, results.get(2).get(30, TimeUnit.SECONDS).dims());
      java.util.concurrent.ExecutionException e =
          assertThrows(java.util.concurrent.ExecutionException.class, () -> results.get(1).get(30, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().startsWith("ONNX Runtime failed on a batch of 1 texts of up to 3 tokens"), e.getCause().getMessage());
    } finally {
      single.shutdown();
    }
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
