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
   * @throws IllegalArgumentException if the text is blank or has no {@linkplain #hasContent content}:
   *     there is nothing to embed
   */
  public EmbeddingInput {
    Objects.requireNonNull(text, "text must not be null");
    Objects.requireNonNull(prompt, "prompt must not be null");
    if (text.isBlank()) {
      throw new IllegalArgumentException("text must not be empty or blank: there is nothing to embed");
    }
    if (!hasContent(text)) {
      throw new IllegalArgumentException("text has nothing to embed: " + NO_CONTENT);
    }
  }

  /** Why a text without {@linkplain #hasContent content} cannot be embedded. */
  public static final String NO_CONTENT = "it holds only whitespace, control, format or unpaired surrogate characters";

  /**
   * Whether a text holds anything a tokenizer turns into tokens. Whitespace, control characters
   * (such as U+0000), format characters (such as the zero-width space U+200B) and unpaired
   * surrogates become no tokens: such a text would be embedded as the special tokens alone, and
   * every such text would get the same vector.
   */
  public static boolean hasContent(String text) {
    return text.codePoints().anyMatch(codePoint -> !invisible(codePoint));
  }

  /**
   * Whether a text holds a character that Unicode assigns and that is more than whitespace, a
   * control or a format character. Tokenizers turn every such character into a token (BERT's into
   * {@code [UNK]} if need be); a text without one may make no tokens at all, which only the
   * tokenizer can tell.
   */
  public static boolean hasAssignedCharacter(String text) {
    return text.codePoints().anyMatch(codePoint -> {
      int type = Character.getType(codePoint);
      return !invisible(codePoint) && type != Character.UNASSIGNED && type != Character.PRIVATE_USE;
    });
  }

  /** Whitespace, control, format or unpaired surrogate: what no tokenizer turns into a token. */
  private static boolean invisible(int codePoint) {
    int type = Character.getType(codePoint);
    return Character.isWhitespace(codePoint)
        || Character.isSpaceChar(codePoint)
        || type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.SURROGATE;
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
