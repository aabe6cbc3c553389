package org.embeddinggemma.engine;

import java.util.Objects;

/**
 * Text put in front of the input before it is tokenised, as EmbeddingGemma expects.
 *
 * <p>A template may hold {@value #TITLE_PLACEHOLDER}, which is replaced by the document's title, or
 * by {@value #NO_TITLE} when it has none (as the model card prescribes). Instances are immutable.
 */
public final class PromptTemplate {

  /** Placeholder replaced by the title. */
  public static final String TITLE_PLACEHOLDER = "{title}";

  /** What stands for a missing title, as on the EmbeddingGemma model card. */
  public static final String NO_TITLE = "none";

  /** No prompt: the text is embedded as it is (models such as MiniLM take no prompt). */
  public static final PromptTemplate NONE = new PromptTemplate("");

  private final String template;

  private PromptTemplate(String template) {
    this.template = template;
  }

  /** The prompt of an EmbeddingGemma task. */
  public static PromptTemplate forTask(Task task) {
    return new PromptTemplate(Objects.requireNonNull(task, "task must not be null").template());
  }

  /**
   * A custom prompt, used verbatim except for {@value #TITLE_PLACEHOLDER}.
   *
   * @throws IllegalArgumentException if the prompt is empty (use {@link #NONE})
   */
  public static PromptTemplate custom(String prompt) {
    Objects.requireNonNull(prompt, "prompt must not be null");
    if (prompt.isEmpty()) {
      throw new IllegalArgumentException("custom prompt must not be empty; use no prompt instead");
    }
    return new PromptTemplate(prompt);
  }

  /**
   * Prepends this prompt to a text.
   *
   * @param title the document title, or {@code null} for none; ignored by templates without
   *     {@value #TITLE_PLACEHOLDER}
   */
  public String apply(String text, String title) {
    Objects.requireNonNull(text, "text must not be null");
    if (template.isEmpty()) {
      return text;
    }
    String filledTitle = title == null || title.isBlank() ? NO_TITLE : title;
    return template.replace(TITLE_PLACEHOLDER, filledTitle) + text;
  }

  /** The raw template, {@value #TITLE_PLACEHOLDER} included; empty for {@link #NONE}. */
  public String template() {
    return template;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PromptTemplate that && template.equals(that.template);
  }

  @Override
  public int hashCode() {
    return template.hashCode();
  }

  @Override
  public String toString() {
    return "PromptTemplate[" + template + "]";
  }
}
