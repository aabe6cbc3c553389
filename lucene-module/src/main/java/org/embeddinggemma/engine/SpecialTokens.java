package org.embeddinggemma.engine;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;

/**
 * The beginning- and end-of-sequence tokens a model's {@code tokenizer_config.json} asks for.
 *
 * <p>HuggingFace tokenizers add special tokens through the {@code post_processor} of {@code
 * tokenizer.json}, but Gemma tokenizers also carry {@code add_bos_token} and {@code add_eos_token}
 * in {@code tokenizer_config.json}, which the Python library turns into extra tokens. EmbeddingGemma
 * wraps every text as {@code <bos> text <eos>}; the plain Gemma 3 {@code tokenizer.json} only adds
 * {@code <bos>}. This class reads those flags so that {@link TextTokenizer} adds what is missing.
 *
 * @param addBos whether the sequence must start with {@link #bosToken()}
 * @param bosToken the beginning-of-sequence token, e.g. {@code <bos>}; null when not configured
 * @param addEos whether the sequence must end with {@link #eosToken()}
 * @param eosToken the end-of-sequence token, e.g. {@code <eos>}; null when not configured
 */
public record SpecialTokens(boolean addBos, String bosToken, boolean addEos, String eosToken) {

  /** Rely on {@code tokenizer.json}'s post-processor alone, as for BERT-style models. */
  public static final SpecialTokens FROM_TOKENIZER = new SpecialTokens(false, null, false, null);

  /**
   * @throws IllegalArgumentException if a token is asked for but not named
   */
  public SpecialTokens {
    if (addBos && (bosToken == null || bosToken.isEmpty())) {
      throw new IllegalArgumentException("add_bos_token is true but bos_token is not set");
    }
    if (addEos && (eosToken == null || eosToken.isEmpty())) {
      throw new IllegalArgumentException("add_eos_token is true but eos_token is not set");
    }
  }

  /**
   * Reads {@code add_bos_token}, {@code bos_token}, {@code add_eos_token} and {@code eos_token} from
   * a HuggingFace {@code tokenizer_config.json}; absent flags mean false.
   *
   * @throws ModelLoadException if the file cannot be read or is not a JSON object
   */
  public static SpecialTokens read(Path tokenizerConfig) {
    JsonElement parsed = JsonFile.parse(tokenizerConfig, "tokenizer config [" + tokenizerConfig + "]");
    if (!parsed.isJsonObject()) {
      throw new ModelLoadException("[" + tokenizerConfig + "] must hold a JSON object, found " + parsed);
    }
    JsonObject json = parsed.getAsJsonObject();
    try {
      return new SpecialTokens(
          flag(json, "add_bos_token"),
          tokenContent(json, "bos_token"),
          flag(json, "add_eos_token"),
          tokenContent(json, "eos_token"));
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException("invalid tokenizer config [" + tokenizerConfig + "]: " + e.getMessage());
    }
  }

  private static boolean flag(JsonObject json, String key) {
    JsonElement value = json.get(key);
    return value != null && value.isJsonPrimitive() && value.getAsBoolean();
  }

  /** Tokens are written either as a string or as an AddedToken object with a "content" key. */
  private static String tokenContent(JsonObject json, String key) {
    JsonElement value = json.get(key);
    if (value == null || value.isJsonNull()) {
      return null;
    }
    if (value.isJsonObject() && value.getAsJsonObject().has("content")) {
      return value.getAsJsonObject().get("content").getAsString();
    }
    return value.getAsString();
  }
}
