package org.embeddinggemma.engine;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The tasks EmbeddingGemma was trained with, each with the prompt from its model card.
 *
 * <p>Queries and documents are embedded with different prompts: a search embeds documents with
 * {@link #DOCUMENT} and queries with {@link #QUERY}. The other tasks are symmetric query prompts.
 */
public enum Task {
  /** Search queries: {@code task: search result | query: }. */
  QUERY("task: search result | query: "),
  /** Documents to be searched: {@code title: {title or "none"} | text: }. */
  DOCUMENT("title: " + PromptTemplate.TITLE_PLACEHOLDER + " | text: "),
  /** {@code task: question answering | query: }. */
  QUESTION_ANSWERING("task: question answering | query: "),
  /** {@code task: fact checking | query: }. */
  FACT_CHECKING("task: fact checking | query: "),
  /** {@code task: classification | query: }. */
  CLASSIFICATION("task: classification | query: "),
  /** {@code task: clustering | query: }. */
  CLUSTERING("task: clustering | query: "),
  /** {@code task: sentence similarity | query: }. */
  SENTENCE_SIMILARITY("task: sentence similarity | query: "),
  /** {@code task: code retrieval | query: }. */
  CODE_RETRIEVAL("task: code retrieval | query: ");

  private final String template;

  Task(String template) {
    this.template = template;
  }

  /** The prompt template of this task; {@link #DOCUMENT}'s holds a title placeholder. */
  public String template() {
    return template;
  }

  /** The name users write in configuration and on the command line, e.g. {@code question_answering}. */
  public String externalName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses an external task name such as {@code query} or {@code fact_checking}.
   *
   * @throws IllegalArgumentException if the name is not one of the task names
   */
  public static Task fromName(String name) {
    for (Task task : values()) {
      if (task.externalName().equals(name)) {
        return task;
      }
    }
    throw new IllegalArgumentException(
        "unknown task [" + name + "]; expected one of " + externalNames());
  }

  /** All external task names, in declaration order, comma separated in brackets. */
  public static String externalNames() {
    return Arrays.stream(values()).map(Task::externalName).collect(Collectors.joining(", ", "[", "]"));
  }
}
