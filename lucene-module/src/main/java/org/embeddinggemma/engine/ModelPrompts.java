package org.embeddinggemma.engine;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The prompt of each {@link Task} for one model, and where it came from. In order: {@code prompts}
 * of {@value ModelConfig#FILE_NAME}; the {@code prompts} that the model ships in {@value
 * #SENTENCE_TRANSFORMERS_FILE} (EmbeddingGemma's key names, {@code query}, {@code document},
 * {@code Clustering}, …, and EmbeddingGemma 2's, {@code SearchQuery}, {@code Document}, {@code
 * CodeRetrieval}, …); else the prompts of the EmbeddingGemma model card ({@link Task#template()}).
 *
 * <p>A shipped document prompt is written for a missing title ({@code title: none | text: }); its
 * {@code none} becomes {@value PromptTemplate#TITLE_PLACEHOLDER}, so that a title still fills it,
 * as the model card prescribes. Instances are immutable.
 */
public final class ModelPrompts {

  /** The sentence-transformers configuration of a model, which may hold its prompts. */
  public static final String SENTENCE_TRANSFORMERS_FILE = "config_sentence_transformers.json";

  /** Where prompts come from when neither file names them. */
  public static final String BUILT_IN = "EmbeddingGemma model card";

  /** The keys each task's prompt goes by in {@value #SENTENCE_TRANSFORMERS_FILE}, first found wins. */
  private static final Map<Task, List<String>> KEYS = keys();

  private static Map<Task, List<String>> keys() {
    Map<Task, List<String>> keys = new EnumMap<>(Task.class);
    keys.put(Task.QUERY, List.of("query", "SearchQuery", "Retrieval-query", "Retrieval"));
    keys.put(Task.DOCUMENT, List.of("document", "Document", "Retrieval-document"));
    keys.put(Task.QUESTION_ANSWERING, List.of("QuestionAnswering", "question_answering"));
    keys.put(Task.FACT_CHECKING, List.of("FactChecking", "fact_checking"));
    keys.put(Task.CLASSIFICATION, List.of("Classification", "classification"));
    keys.put(Task.CLUSTERING, List.of("Clustering", "clustering"));
    keys.put(Task.SENTENCE_SIMILARITY, List.of("STS", "SentenceSimilarity", "sentence_similarity"));
    keys.put(Task.CODE_RETRIEVAL, List.of("CodeRetrieval", "code_retrieval"));
    return keys;
  }

  /** A task's prompt and where it came from. */
  public record Prompt(PromptTemplate template, String source) {}

  private final boolean taskPrompts;
  private final Map<Task, Prompt> prompts;

  private ModelPrompts(boolean taskPrompts, Map<Task, Prompt> prompts) {
    this.taskPrompts = taskPrompts;
    this.prompts = Map.copyOf(prompts);
  }

  /**
   * Resolves the prompts of a model directory.
   *
   * @throws ModelLoadException if {@value #SENTENCE_TRANSFORMERS_FILE} exists but cannot be read,
   *     or its {@code prompts} is not an object of strings
   */
  public static ModelPrompts resolve(Path root, ModelConfig config) {
    Map<Task, Prompt> prompts = new EnumMap<>(Task.class);
    if (!config.taskPrompts()) {
      for (Task task : Task.values()) {
        prompts.put(task, new Prompt(PromptTemplate.NONE, ModelConfig.FILE_NAME));
      }
      return new ModelPrompts(false, prompts);
    }
    Map<String, String> shipped = shipped(root.resolve(SENTENCE_TRANSFORMERS_FILE));
    for (Task task : Task.values()) {
      String override = config.promptOverrides().get(task);
      if (override != null) {
        prompts.put(task, new Prompt(template(override), ModelConfig.FILE_NAME));
        continue;
      }
      String fromFile = KEYS.get(task).stream().map(shipped::get).filter(p -> p != null).findFirst().orElse(null);
      if (fromFile != null) {
        String withTitle = task == Task.DOCUMENT ? fromFile.replace("title: " + PromptTemplate.NO_TITLE + " |", "title: " + PromptTemplate.TITLE_PLACEHOLDER + " |") : fromFile;
        prompts.put(task, new Prompt(template(withTitle), SENTENCE_TRANSFORMERS_FILE));
      } else {
        prompts.put(task, new Prompt(PromptTemplate.forTask(task), BUILT_IN));
      }
    }
    return new ModelPrompts(true, prompts);
  }

  private static PromptTemplate template(String prompt) {
    return prompt.isEmpty() ? PromptTemplate.NONE : PromptTemplate.custom(prompt);
  }

  /** The {@code prompts} object of a sentence-transformers configuration, or none if there is no file. */
  private static Map<String, String> shipped(Path file) {
    if (!Files.isRegularFile(file)) {
      return Map.of();
    }
    JsonElement parsed = JsonFile.parse(file, "[" + file + "]");
    if (!parsed.isJsonObject()) {
      throw new ModelLoadException("[" + file + "] must hold a JSON object, found " + parsed);
    }
    JsonElement prompts = parsed.getAsJsonObject().get("prompts");
    if (prompts == null || prompts.isJsonNull()) {
      return Map.of();
    }
    if (!prompts.isJsonObject()) {
      throw new ModelLoadException("[prompts] in [" + file + "] must be an object of prompts by name, found " + prompts);
    }
    Map<String, String> byName = new HashMap<>();
    for (Map.Entry<String, JsonElement> entry : ((JsonObject) prompts).entrySet()) {
      JsonElement value = entry.getValue();
      if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
        throw new ModelLoadException("[prompts." + entry.getKey() + "] in [" + file + "] must be a string, found " + value);
      }
      byName.put(entry.getKey(), value.getAsString());
    }
    return byName;
  }

  /** Whether the model takes task prompts; if not, every prompt is {@link PromptTemplate#NONE}. */
  public boolean taskPrompts() {
    return taskPrompts;
  }

  /** The prompt of {@code task}. */
  public PromptTemplate prompt(Task task) {
    return prompts.get(task).template();
  }

  /** Each task's prompt and its source, in task order. */
  public Map<Task, Prompt> all() {
    return new EnumMap<>(prompts);
  }
}
