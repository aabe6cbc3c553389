package org.embeddinggemma.engine;

import java.util.Locale;

/**
 * How {@link TextChunker} splits a text into passages.
 *
 * @param strategy {@link Strategy#SENTENCE} packs whole sentences; {@link Strategy#TOKENS} cuts
 *     fixed windows of tokens
 * @param maxTokens the most tokens of a passage as the model sees it: task prompt, title and special
 *     tokens included; at least 8
 * @param overlap how much of a passage the next one repeats: whole sentences for {@code SENTENCE},
 *     tokens for {@code TOKENS}; 0 or more, and under half of {@code maxTokens} for {@code TOKENS}
 * @param maxPassages the most passages of one text; at least 1
 * @param keepFirstPassages past {@code maxPassages}, keep the first ones and say so, instead of
 *     failing
 */
public record ChunkingSettings(Strategy strategy, int maxTokens, int overlap, int maxPassages, boolean keepFirstPassages) {

  /**
   * Passage size for EmbeddingGemma retrieval: a few hundred tokens keep a passage about one thing,
   * and cost no more per token than shorter ones (attention grows with the square of the length).
   */
  public static final int DEFAULT_MAX_TOKENS = 256;

  /** Passages per text before it fails (or is cut, if asked). */
  public static final int DEFAULT_MAX_PASSAGES = 100;

  /** How to split. */
  public enum Strategy {
    /** Whole sentences packed up to the size; a longer sentence is cut at token boundaries. */
    SENTENCE,
    /** Fixed windows of tokens. */
    TOKENS;

    /** The name used in configuration: {@code sentence} or {@code tokens}. */
    public String externalName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException if the name is neither {@code sentence} nor {@code tokens}
     */
    public static Strategy fromName(String name) {
      for (Strategy strategy : values()) {
        if (strategy.externalName().equals(name)) {
          return strategy;
        }
      }
      throw new IllegalArgumentException("unknown chunking strategy [" + name + "]; expected one of [sentence, tokens]");
    }
  }

  /**
   * @throws IllegalArgumentException if a value is out of range
   */
  public ChunkingSettings {
    if (strategy == null) {
      throw new IllegalArgumentException("strategy must not be null");
    }
    if (maxTokens < 8) {
      throw new IllegalArgumentException("max_tokens must be at least 8, got " + maxTokens);
    }
    if (overlap < 0) {
      throw new IllegalArgumentException("overlap must be 0 or more, got " + overlap);
    }
    if (strategy == Strategy.TOKENS && overlap * 2 >= maxTokens) {
      throw new IllegalArgumentException("overlap must be less than half of max_tokens [" + maxTokens + "], got " + overlap);
    }
    if (maxPassages < 1) {
      throw new IllegalArgumentException("max_passages must be at least 1, got " + maxPassages);
    }
  }
}
