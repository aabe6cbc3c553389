package org.embeddinggemma.elasticsearch;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.ElasticsearchException;
import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.ResourceNotFoundException;
import org.elasticsearch.rest.RestStatus;
import org.embeddinggemma.engine.InferenceException;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.engine.NativeErrors;
import org.embeddinggemma.engine.TextRejectedException;

/**
 * What clients are told when a model cannot serve them: the one place where such errors are
 * worded. A client sees the model id, files relative to the models folder ({@code
 * embedding-gemma/<id>/onnx/model.onnx}) and a plain reason; never an absolute path, a Java class
 * name or a native source location, and never a cause chain that holds them. The full detail goes
 * to the node log, once per distinct failure.
 */
public final class ModelErrors {

  private static final Logger logger = LogManager.getLogger(ModelErrors.class);

  /** Distinct failure details already logged; bounded so that a stream of new texts cannot grow it. */
  private static final Map<String, Boolean> LOGGED =
      Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > 1000;
        }
      });

  private ModelErrors() {}

  /** 404: no folder for the model on this node. */
  public static ResourceNotFoundException notInstalled(String modelId) {
    return new ResourceNotFoundException(
        "model [" + modelId + "] is not installed on this node: no folder [" + ModelRegistry.MODELS_FOLDER + "/" + modelId
            + "] in its config directory");
  }

  /** 409: the model's files do not load; what is wrong with them, relative to the models folder. */
  public static ElasticsearchStatusException cannotLoad(String modelId, Path modelDirectory, Throwable failure) {
    String reason = failure instanceof ModelLoadException load ? load.reason() : NativeErrors.plainReason(failure);
    return new ElasticsearchStatusException(
        "model [" + modelId + "] cannot be loaded: " + relative(reason, modelDirectory, modelId)
            + "; fix its files (the node tries again when they change) or call POST _embedding_gemma/_reload",
        RestStatus.CONFLICT);
  }

  /** 409: the model is loading (or closed), and the caller cannot wait. */
  public static ElasticsearchStatusException notReady(String modelId, ModelHandle.State state) {
    return new ElasticsearchStatusException(
        "model [" + modelId + "] is " + (state == null ? "closed" : state.externalName()), RestStatus.CONFLICT);
  }

  /**
   * A failure to embed, as the client gets it. A text the model cannot take is the text's fault:
   * 400, naming the model and the reason, never a 500. Rejected texts, bad options, rejections and
   * cancellations are already worded for clients and pass as they are. An {@link Error} from native
   * code never reaches Elasticsearch, which stops the node when it finds one in a failure.
   */
  public static Exception forClient(String modelId, Throwable failure) {
    if (failure instanceof VirtualMachineError fatal) {
      throw fatal;
    }
    if (failure instanceof TextRejectedException || failure instanceof ElasticsearchException) {
      return (Exception) failure;
    }
    if (failure instanceof InferenceException inference) {
      logOnce(modelId, inference);
      return new ElasticsearchStatusException("model [" + modelId + "] cannot embed the text: " + inference.reason(), RestStatus.BAD_REQUEST);
    }
    if (failure instanceof IllegalArgumentException argument) {
      return argument;
    }
    logOnce(modelId, failure);
    return new ElasticsearchStatusException(
        "model [" + modelId + "] failed: " + NativeErrors.plainReason(failure) + "; the node log has the details", RestStatus.INTERNAL_SERVER_ERROR);
  }

  private static void logOnce(String modelId, Throwable failure) {
    String key = modelId + ": " + failure;
    if (LOGGED.put(key, Boolean.TRUE) == null) {
      logger.warn(() -> "model [" + modelId + "] failed to embed: " + failure.getMessage(), failure);
    }
  }

  /** Paths under the model's folder written as a client sees them, from the models folder down. */
  static String relative(String text, Path modelDirectory, String modelId) {
    String absolute = modelDirectory.toAbsolutePath().normalize().toString();
    return text.replace(absolute, ModelRegistry.MODELS_FOLDER + "/" + modelId);
  }
}
