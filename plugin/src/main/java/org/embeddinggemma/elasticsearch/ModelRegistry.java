package org.embeddinggemma.elasticsearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.ResourceNotFoundException;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * The models of this node: directories under {@code $ES_PATH_CONF/embedding-gemma/<model_id>/},
 * each loaded once on first use and shared by every pipeline, query and REST call.
 *
 * <p>A model that fails to load is not remembered, so fixing its files and retrying works without a
 * restart. Whatever a broken model throws, {@link Error}s from native code included, reaches the
 * caller as an exception: it never escapes to a thread and takes the node down.
 */
public final class ModelRegistry implements AutoCloseable {

  private static final Logger logger = LogManager.getLogger(ModelRegistry.class);

  /** Folder of the node's config directory that holds the models. */
  public static final String MODELS_FOLDER = "embedding-gemma";

  private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9_.-]+");

  private final Path modelsDirectory;
  private final EmbedderSettings embedderSettings;
  private final Map<String, CompletableFuture<TextEmbedder>> models = new ConcurrentHashMap<>();

  /**
   * @param configDirectory the node's config directory; models are in its {@value #MODELS_FOLDER}
   * @param embedderSettings how every model of this node runs
   */
  public ModelRegistry(Path configDirectory, EmbedderSettings embedderSettings) {
    this.modelsDirectory = configDirectory.resolve(MODELS_FOLDER);
    this.embedderSettings = embedderSettings;
  }

  /**
   * Checks a model id: letters, digits, {@code -}, {@code _} and {@code .}, not {@code .} or
   * {@code ..}, so that it always names a folder inside the models directory.
   *
   * @throws IllegalArgumentException naming the id and the rule
   */
  public static String validateModelId(String modelId) {
    if (modelId == null || !MODEL_ID.matcher(modelId).matches() || modelId.equals(".") || modelId.equals("..")) {
      throw new IllegalArgumentException(
          "model_id [" + modelId + "] is invalid: use only letters, digits, '-', '_' and '.', and not '.' or '..'");
    }
    return modelId;
  }

  /** The directory of a model id. */
  public Path directory(String modelId) {
    return modelsDirectory.resolve(validateModelId(modelId));
  }

  /**
   * The loaded model, loading it on this thread if no other thread has.
   *
   * @throws IllegalArgumentException if the id is invalid
   * @throws ResourceNotFoundException if no such model is installed
   * @throws ModelLoadException if the model's files are not usable
   */
  public TextEmbedder get(String modelId) {
    Path directory = directory(modelId);
    CompletableFuture<TextEmbedder> model = models.get(modelId);
    if (model == null) {
      if (!Files.isDirectory(directory)) {
        throw new ResourceNotFoundException(
            "model [" + modelId + "] is not installed: no directory [" + directory + "]; installed models: " + installed());
      }
      CompletableFuture<TextEmbedder> loading = new CompletableFuture<>();
      model = models.putIfAbsent(modelId, loading);
      if (model == null) {
        model = loading;
        load(modelId, directory, loading);
      }
    }
    try {
      return model.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while model [" + modelId + "] was loading", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new ModelLoadException("cannot load model [" + modelId + "]", e.getCause());
    }
  }

  private void load(String modelId, Path directory, CompletableFuture<TextEmbedder> loading) {
    long start = System.nanoTime();
    try {
      TextEmbedder embedder = TextEmbedder.open(directory, embedderSettings);
      logger.info(
          "loaded model [{}] from [{}] in [{}ms]: {} dims, {} max tokens, batches of up to {}",
          modelId, embedder.directory().graph(), (System.nanoTime() - start) / 1_000_000,
          embedder.modelDims(), embedder.maxTokens(), embedder.maxBatchSize());
      loading.complete(embedder);
    } catch (Throwable t) {
      if (t instanceof VirtualMachineError fatal) {
        throw fatal;
      }
      models.remove(modelId, loading);
      RuntimeException failure =
          t instanceof RuntimeException runtime
              ? runtime
              : new ModelLoadException("cannot load model [" + modelId + "] from [" + directory + "]", t);
      logger.warn("cannot load model [" + modelId + "]", failure);
      loading.completeExceptionally(failure);
    }
  }

  /** The ids of the models installed on this node, loaded or not. */
  public List<String> installed() {
    if (!Files.isDirectory(modelsDirectory)) {
      return List.of();
    }
    try (Stream<Path> folders = Files.list(modelsDirectory)) {
      return folders.filter(Files::isDirectory).map(folder -> folder.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** The models loaded so far, by id. */
  public Map<String, TextEmbedder> loaded() {
    Map<String, TextEmbedder> loaded = new TreeMap<>();
    models.forEach((id, future) -> {
      if (future.isDone() && !future.isCompletedExceptionally()) {
        loaded.put(id, future.join());
      }
    });
    return loaded;
  }

  @Override
  public void close() {
    loaded().values().forEach(TextEmbedder::close);
    models.clear();
  }
}
