package org.embeddinggemma.elasticsearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * The models of this node: directories under {@code $ES_PATH_CONF/embedding-gemma/<model_id>/},
 * one {@link ModelHandle} per id, each model loaded once, in the background, and shared by every
 * pipeline, query and REST call.
 *
 * <p>Whatever a broken model throws, {@link Error}s from native code included, reaches callers as
 * an exception: it never escapes to a thread and takes the node down.
 */
public final class ModelRegistry implements AutoCloseable {

  /** Folder of the node's config directory that holds the models. */
  public static final String MODELS_FOLDER = "embedding-gemma";

  private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9_.-]+");

  private final Path modelsDirectory;
  private final EmbedderSettings embedderSettings;
  private final Executor loader;
  private final Map<String, ModelHandle> models = new ConcurrentHashMap<>();

  /**
   * @param configDirectory the node's config directory; models are in its {@value #MODELS_FOLDER}
   * @param embedderSettings how every model of this node runs
   * @param loader where models load: the plugin's pool, looked up on use
   */
  public ModelRegistry(Path configDirectory, EmbedderSettings embedderSettings, Executor loader) {
    this.modelsDirectory = configDirectory.resolve(MODELS_FOLDER);
    this.embedderSettings = embedderSettings;
    this.loader = loader;
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

  /**
   * The handle of a model id, installed or not; cheap, loads nothing.
   *
   * @throws IllegalArgumentException if the id is invalid
   */
  public ModelHandle model(String modelId) {
    return models.computeIfAbsent(
        validateModelId(modelId), id -> new ModelHandle(id, modelsDirectory.resolve(id), directory -> TextEmbedder.open(directory, embedderSettings), loader));
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

  /** Every model this node was asked for or installed, by id. */
  public Map<String, ModelHandle> models() {
    for (String id : installed()) {
      model(id);
    }
    return new TreeMap<>(models);
  }

  @Override
  public void close() {
    models.values().forEach(ModelHandle::close);
  }
}
