package org.embeddinggemma.engine;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Optional overrides read from {@value #FILE_NAME} in a model directory. Every key is optional:
 *
 * <pre>{@code
 * {
 *   "onnx_file": "onnx/model_quantized.onnx",  // graph to load, relative to the directory
 *   "pooling": "sentence_embedding",           // or "mean" or "cls"
 *   "max_tokens": 2048,                        // longest input, special tokens included
 *   "dims": 256,                               // dims used when a caller asks for none
 *   "prompts": false                           // the model takes no task prompts (e.g. MiniLM)
 * }
 * }</pre>
 *
 * <p>{@code prompts} may instead be an object that replaces the prompt of some tasks, e.g. {@code
 * {"query": "query: ", "document": "passage: "}}; tasks it does not name keep the model's own
 * prompts ({@link ModelPrompts}). Unknown keys are rejected so that a typo does not silently change nothing.
 *
 * @param onnxFile the graph, relative to the model directory; null for the default search
 * @param pooling the pooling; null to choose from the graph's outputs
 * @param maxTokens the maximum sequence length; null for the default
 * @param dims the default output dims; null for the model's full dims
 * @param taskPrompts whether the model takes task prompts at all
 * @param promptOverrides prompts replacing the built-in ones of some tasks
 */
public record ModelConfig(
    String onnxFile,
    PoolingStrategy pooling,
    Integer maxTokens,
    Integer dims,
    boolean taskPrompts,
    Map<Task, String> promptOverrides) {

  /** The file name looked for in a model directory. */
  public static final String FILE_NAME = "embedding-gemma.json";

  /** No overrides at all. */
  public static final ModelConfig DEFAULTS = new ModelConfig(null, null, null, null, true, Map.of());

  private static final Set<String> KEYS =
      Collections.unmodifiableSet(new TreeSet<>(Set.of("onnx_file", "pooling", "max_tokens", "dims", "prompts")));

  /**
   * @throws IllegalArgumentException if a number is out of range
   */
  public ModelConfig {
    if (maxTokens != null && maxTokens < 2) {
      throw new IllegalArgumentException("max_tokens must be at least 2, got " + maxTokens);
    }
    if (dims != null && dims < 1) {
      throw new IllegalArgumentException("dims must be at least 1, got " + dims);
    }
    promptOverrides = Map.copyOf(promptOverrides);
  }

  /**
   * Reads a configuration file.
   *
   * @throws ModelLoadException naming the file and the problem, if it cannot be read or is invalid
   */
  public static ModelConfig read(Path file) {
    JsonElement parsed = JsonFile.parse(file, "model config [" + file + "]");
    try {
      return parse(parsed);
    } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
      throw new ModelLoadException("invalid model config [" + file + "]: " + e.getMessage());
    }
  }

  private static ModelConfig parse(JsonElement parsed) {
    if (!parsed.isJsonObject()) {
      throw new IllegalArgumentException("expected a JSON object, found " + parsed);
    }
    JsonObject json = parsed.getAsJsonObject();
    for (String key : json.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown key [" + key + "]; expected one of " + KEYS);
      }
    }
    String onnxFile = json.has("onnx_file") ? string(json, "onnx_file") : null;
    PoolingStrategy pooling =
        json.has("pooling") ? PoolingStrategy.fromName(string(json, "pooling")) : null;
    Integer maxTokens = json.has("max_tokens") ? integer(json, "max_tokens") : null;
    Integer dims = json.has("dims") ? integer(json, "dims") : null;
    boolean taskPrompts = true;
    Map<Task, String> overrides = new EnumMap<>(Task.class);
    JsonElement prompts = json.get("prompts");
    if (prompts != null) {
      if (prompts.isJsonPrimitive() && prompts.getAsJsonPrimitive().isBoolean()) {
        taskPrompts = prompts.getAsBoolean();
      } else if (prompts.isJsonObject()) {
        for (Map.Entry<String, JsonElement> entry : prompts.getAsJsonObject().entrySet()) {
          Task task = Task.fromName(entry.getKey());
          if (!isString(entry.getValue())) {
            throw new IllegalArgumentException(
                "prompts." + entry.getKey() + " must be a string, found " + entry.getValue());
          }
          overrides.put(task, entry.getValue().getAsString());
        }
      } else {
        throw new IllegalArgumentException(
            "prompts must be false or an object of task prompts, found " + prompts);
      }
    }
    return new ModelConfig(onnxFile, pooling, maxTokens, dims, taskPrompts, overrides);
  }

  private static boolean isString(JsonElement value) {
    return value.isJsonPrimitive() && value.getAsJsonPrimitive().isString();
  }

  private static String string(JsonObject json, String key) {
    JsonElement value = json.get(key);
    if (!isString(value)) {
      throw new IllegalArgumentException(key + " must be a string, found " + value);
    }
    return value.getAsString();
  }

  private static int integer(JsonObject json, String key) {
    JsonElement value = json.get(key);
    if (value.isJsonPrimitive()) {
      JsonPrimitive primitive = value.getAsJsonPrimitive();
      if (primitive.isNumber()) {
        double number = primitive.getAsDouble();
        if (number == Math.rint(number) && Math.abs(number) <= Integer.MAX_VALUE) {
          return (int) number;
        }
      }
    }
    throw new IllegalArgumentException(key + " must be a whole number, found " + value);
  }
}
