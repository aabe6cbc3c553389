package org.embeddinggemma.elasticsearch;

import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * What a request asks to put before its texts: a task's prompt, a custom prompt, or nothing.
 *
 * @param task the task, or null for a custom prompt or none
 * @param customPrompt the custom prompt, or null
 */
public record PromptSpec(Task task, String customPrompt) {

  /** The value of {@code task} that asks for no prompt. */
  public static final String NO_TASK = "none";

  /**
   * Reads the {@code task} and {@code prompt} options.
   *
   * @param task a task name, {@value #NO_TASK}, or null for {@code defaultTask}
   * @param prompt a custom prompt, or null
   * @throws IllegalArgumentException if both are given, the task is unknown or the prompt is empty
   */
  public static PromptSpec parse(String task, String prompt, Task defaultTask) {
    if (task != null && prompt != null) {
      throw new IllegalArgumentException("[task] and [prompt] cannot both be set; use one");
    }
    if (prompt != null) {
      if (prompt.isEmpty()) {
        throw new IllegalArgumentException("[prompt] must not be empty; use \"task\": \"none\" for no prompt");
      }
      return new PromptSpec(null, prompt);
    }
    if (NO_TASK.equals(task)) {
      return new PromptSpec(null, null);
    }
    if (task == null) {
      return new PromptSpec(defaultTask, null);
    }
    try {
      return new PromptSpec(Task.fromName(task), null);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown task [" + task + "]; expected one of " + Task.externalNames().replace("]", ", none]"));
    }
  }

  /** The prompt for a model: its own prompt for the task, the custom prompt, or none. */
  public PromptTemplate resolve(TextEmbedder embedder) {
    if (customPrompt != null) {
      return PromptTemplate.custom(customPrompt);
    }
    return task == null ? PromptTemplate.NONE : embedder.prompt(task);
  }
}
