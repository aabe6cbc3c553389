package org.embeddinggemma.engine;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * The longest input a model takes, in tokens with the special tokens, and what says so.
 *
 * <p>The window is the model's own: the smallest of what its files declare ({@code
 * max_seq_length} in {@code sentence_bert_config.json}, {@code model_max_length} in {@code
 * tokenizer_config.json}, {@code max_position_embeddings} in {@code config.json}, also under
 * {@code text_config}). A model whose files declare none is asked: the graph is run on one text of
 * {@link TextEmbedder#DEFAULT_MAX_TOKENS} tokens, and where that fails (a BERT graph with a table
 * of 512 positions), on ever shorter texts until the longest that runs is found. {@code
 * max_tokens} in {@value ModelConfig#FILE_NAME} may narrow the window, never widen it.
 *
 * @param maxTokens the longest input, special tokens included
 * @param source what set it, e.g. {@code max_position_embeddings in config.json}
 */
public record ModelWindow(int maxTokens, String source) {

  /** HuggingFace writes {@code model_max_length} as 10^30 when a tokenizer has no limit. */
  private static final long UNSET_LIMIT = 1_000_000_000L;

  /** A key of a JSON file in the model directory that declares a window. */
  private record Declaration(String file, String key) {}

  private static final List<Declaration> DECLARATIONS =
      List.of(
          new Declaration("sentence_bert_config.json", "max_seq_length"),
          new Declaration(ModelDirectory.TOKENIZER_CONFIG_FILE, "model_max_length"),
          new Declaration("config.json", "max_position_embeddings"));

  /**
   * @throws IllegalArgumentException if {@code maxTokens} is below 2
   */
  public ModelWindow {
    if (maxTokens < 2) {
      throw new IllegalArgumentException("maxTokens must be at least 2, got " + maxTokens);
    }
  }

  /**
   * The window the model's files declare, or null if they declare none.
   *
   * @throws ModelLoadException if a declaring file cannot be read or holds no whole number there
   */
  public static ModelWindow declared(Path root) {
    ModelWindow smallest = null;
    for (Declaration declaration : DECLARATIONS) {
      Path file = root.resolve(declaration.file());
      if (!Files.isRegularFile(file)) {
        continue;
      }
      Long value = read(file, declaration.key());
      if (value == null || value >= UNSET_LIMIT) {
        continue;
      }
      if (value < 2) {
        throw new ModelLoadException(declaration.key() + " in [" + file + "] must be at least 2, found " + value);
      }
      if (smallest == null || value < smallest.maxTokens()) {
        smallest = new ModelWindow(value.intValue(), declaration.key() + " in " + declaration.file());
      }
    }
    return smallest;
  }

  private static Long read(Path file, String key) {
    JsonElement parsed = JsonFile.parse(file, "[" + file + "]");
    if (!parsed.isJsonObject()) {
      return null;
    }
    JsonObject json = parsed.getAsJsonObject();
    JsonElement value = json.get(key);
    if (value == null && json.get("text_config") instanceof JsonObject text) {
      value = text.get(key);
    }
    if (value == null || value.isJsonNull()) {
      return null;
    }
    if (value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber()) {
      double number = value.getAsDouble();
      if (number == Math.rint(number)) {
        return number >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) number;
      }
    }
    throw new ModelLoadException(key + " in [" + file + "] must be a whole number, found " + value);
  }

  /**
   * The window of a model: what its files declare, what its graph runs, and {@code max_tokens} of
   * its configuration.
   *
   * @param runs whether the graph runs on one text of so many tokens; asked only when the files
   *     declare no window
   * @throws ModelLoadException if {@code max_tokens} is more than the model takes
   */
  static ModelWindow resolve(ModelDirectory directory, IntPredicate runs) {
    ModelWindow declared = declared(directory.root());
    Integer configured = directory.config().maxTokens();
    String configuredSource = "max_tokens in " + ModelConfig.FILE_NAME;
    if (declared != null) {
      if (configured == null) {
        return declared;
      }
      if (configured > declared.maxTokens()) {
        throw new ModelLoadException(
            "max_tokens [" + configured + "] in " + ModelConfig.FILE_NAME + " of [" + directory.root() + "] exceeds the "
                + declared.maxTokens() + " tokens the model takes (" + declared.source() + "); set it to "
                + declared.maxTokens() + " or less, or leave it out");
      }
      return new ModelWindow(configured, configuredSource);
    }
    int asked = configured == null ? TextEmbedder.DEFAULT_MAX_TOKENS : configured;
    if (runs.test(asked)) {
      return configured == null ? new ModelWindow(asked, "default; the graph runs " + asked + " tokens") : new ModelWindow(asked, configuredSource);
    }
    int longest = longestThatRuns(asked, runs);
    if (configured != null) {
      throw new ModelLoadException(
          "max_tokens [" + configured + "] in " + ModelConfig.FILE_NAME + " of [" + directory.root() + "] exceeds the " + longest
              + " tokens ONNX graph [" + directory.root().relativize(directory.graph()) + "] takes (a text of " + (longest + 1)
              + " tokens fails in it); set it to " + longest + " or less, or leave it out");
    }
    return new ModelWindow(longest, "the longest input ONNX graph [" + directory.root().relativize(directory.graph()) + "] runs");
  }

  /** The longest length below {@code failing} that runs; binary search, as graphs that run n tokens run fewer. */
  private static int longestThatRuns(int failing, IntPredicate runs) {
    int works = 1;
    int fails = failing;
    while (fails - works > 1) {
      int middle = (works + fails) >>> 1;
      if (runs.test(middle)) {
        works = middle;
      } else {
        fails = middle;
      }
    }
    if (works < 2) {
      throw new ModelLoadException("the ONNX graph runs on no input of 2 tokens or more");
    }
    return works;
  }

  @Override
  public String toString() {
    return maxTokens + " tokens (" + source + ")";
  }

  /** Token ids for a probe of {@code length}: one ordinary id repeated. */
  static long[] probeIds(int length) {
    long[] ids = new long[length];
    Arrays.fill(ids, 1000L);
    return ids;
  }
}
