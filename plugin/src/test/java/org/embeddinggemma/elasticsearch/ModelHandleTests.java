package org.embeddinggemma.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.ResourceNotFoundException;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.rest.RestStatus;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state machine of one model id, with the real engine as its opener and a clock of its own. */
class ModelHandleTests {

  @TempDir Path models;
  Path directory;
  final AtomicLong clock = new AtomicLong();
  final AtomicInteger opened = new AtomicInteger();
  ModelHandle handle;

  @BeforeAll
  static void logging() {
    LogConfigurator.configureESLogging();
  }

  @BeforeEach
  void handle() {
    directory = models.resolve("m");
    // Loads run on the calling thread, so each state change is seen at once.
    handle = new ModelHandle("m", directory, dir -> {
      opened.incrementAndGet();
      return TextEmbedder.open(dir, new EmbedderSettings(1, 4));
    }, Runnable::run, clock::get);
  }

  private void installMiniLm() throws IOException {
    Files.createDirectories(directory);
    Files.copy(TestModels.miniLmGraph(), directory.resolve("model.onnx"));
    Files.copy(TestModels.miniLmTokenizer(), directory.resolve("tokenizer.json"));
    Files.writeString(directory.resolve("embedding-gemma.json"), "{\"prompts\": false, \"max_tokens\": 256}");
  }

  private void breakGraph() throws IOException {
    Files.writeString(directory.resolve("model.onnx"), "not an onnx graph");
  }

  private void aSecondLater() {
    clock.addAndGet(ModelHandle.RECHECK_NANOS);
  }

  @Test
  void missingFolderIsLookedForAgainAtMostOnceASecond() throws IOException {
    assertEquals(ModelHandle.State.NOT_INSTALLED, handle.state());
    ResourceNotFoundException missing = (ResourceNotFoundException) handle.unavailable();
    assertEquals("model [m] is not installed on this node: no folder [embedding-gemma/m] in its config directory", missing.getMessage());
    installMiniLm();
    assertEquals(ModelHandle.State.NOT_INSTALLED, handle.state(), "not looked at again within the second");
    aSecondLater();
    assertEquals(ModelHandle.State.LOADED, handle.state());
    assertEquals(1, opened.get());
  }

  @Test
  void failedLoadIsRememberedUntilItsFilesChangeAndToldWithoutInternals() throws IOException {
    installMiniLm();
    breakGraph();
    assertEquals(ModelHandle.State.FAILED, handle.state());
    ElasticsearchStatusException failed = (ElasticsearchStatusException) handle.unavailable();
    assertEquals(RestStatus.CONFLICT, failed.status());
    assertEquals(
        "model [m] cannot be loaded: cannot load ONNX graph [embedding-gemma/m/model.onnx]; if its weights are external, keep"
            + " model.onnx_data next to it: Load model from embedding-gemma/m/model.onnx failed:Protobuf parsing failed.; fix its"
            + " files (the node tries again when they change) or call POST _embedding_gemma/_reload",
        failed.getMessage());
    assertEquals(null, failed.getCause(), "no cause chain with class names and paths reaches the client");
    aSecondLater();
    assertEquals(ModelHandle.State.FAILED, handle.state());
    assertEquals(1, opened.get(), "the same broken files are not loaded again");

    Files.copy(TestModels.miniLmGraph(), directory.resolve("model.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    aSecondLater();
    assertEquals(ModelHandle.State.LOADED, handle.state());
    assertEquals(2, opened.get());
  }

  @Test
  void reloadSwapsInANewCopyAndClosesTheOldOneWhenItsLastUserLeaves() throws Exception {
    installMiniLm();
    LoadedModel old = handle.tryAcquire();
    assertEquals(ModelHandle.State.LOADED, handle.state());

    CompletableFuture<TextEmbedder> reload = new CompletableFuture<>();
    handle.reload(ActionListener.wrap(reload::complete, reload::completeExceptionally));
    TextEmbedder reloaded = reload.get(60, TimeUnit.SECONDS);
    assertNotSame(old.embedder(), reloaded);
    assertSame(reloaded, handle.loadedEmbedder());
    assertFalse(old.closed(), "a request still uses the old copy");
    assertEquals(384, old.embedder().embed(EmbeddingInput.of("still served", PromptTemplate.NONE), 384).dims());

    old.release();
    assertTrue(old.closed());
    assertThrows(IllegalStateException.class, () -> old.embedder().embed(EmbeddingInput.of("closed", PromptTemplate.NONE), 384));
    LoadedModel current = handle.tryAcquire();
    assertEquals(384, current.embedder().embed(EmbeddingInput.of("served by the new copy", PromptTemplate.NONE), 384).dims());
    current.release();
  }

  @Test
  void failedReloadKeepsTheLoadedCopyServing() throws Exception {
    installMiniLm();
    assertEquals(ModelHandle.State.LOADED, handle.state());
    TextEmbedder loaded = handle.loadedEmbedder();
    breakGraph();

    CompletableFuture<TextEmbedder> reload = new CompletableFuture<>();
    handle.reload(ActionListener.wrap(reload::complete, reload::completeExceptionally));
    ExecutionException failed = assertThrows(ExecutionException.class, () -> reload.get(60, TimeUnit.SECONDS));
    assertTrue(failed.getCause().getMessage().startsWith("model [m] cannot be loaded: cannot load ONNX graph [embedding-gemma/m/model.onnx]"),
        failed.getCause().getMessage());
    assertEquals(ModelHandle.State.LOADED, handle.state());
    assertSame(loaded, handle.loadedEmbedder());
    LoadedModel copy = handle.tryAcquire();
    assertEquals(384, copy.embedder().embed(EmbeddingInput.of("the old copy answers", PromptTemplate.NONE), 384).dims());
    copy.release();
  }

  @Test
  void closingTheHandleClosesItsCopyAfterWorkInFlight() throws IOException {
    installMiniLm();
    LoadedModel inFlight = handle.tryAcquire();
    handle.close();
    assertFalse(inFlight.closed());
    inFlight.release();
    assertTrue(inFlight.closed());
    assertFalse(inFlight.tryAcquire(), "a closed copy is never handed out again");
    assertThrows(IllegalStateException.class, inFlight::release);
  }
}
