package org.embeddinggemma.engine;

import java.util.Objects;

/**
 * One text to embed, with the prompt to put in front of it.
 *
 * @param text the text; must not be blank
 * @param prompt the prompt; {@link PromptTemplate#NONE} for none
 * @param title the document title for prompts that hold {@value PromptTemplate#TITLE_PLACEHOLDER},
 *     or {@code null}
 */
public record EmbeddingInput(String text, PromptTemplate prompt, String title) {

  /**
   * @throws IllegalArgumentException if the text is blank: there is nothing to embed
   */
  public EmbeddingInput {
    Objects.requireNonNull(text, "text must not be null");
    Objects.requireNonNull(prompt, "prompt must not be null");
    if (text.isBlank()) {
      throw new IllegalArgumentException("text must not be empty or blank: there is nothing to embed");
    }
  }

  /** A text with a prompt and no title. */
  public static EmbeddingInput of(String text, PromptTemplate prompt) {
    return new EmbeddingInput(text, prompt, null);
  }

  /** The text with its prompt, as it is tokenised. */
  public String promptedText() {
    return prompt.apply(text, title);
  }
}
