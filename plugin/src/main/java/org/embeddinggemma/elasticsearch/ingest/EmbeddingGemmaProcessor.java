package org.embeddinggemma.elasticsearch.ingest;

import static org.elasticsearch.ingest.ConfigurationUtils.newConfigurationException;
import static org.elasticsearch.ingest.ConfigurationUtils.readBooleanProperty;
import static org.elasticsearch.ingest.ConfigurationUtils.readIntProperty;
import static org.elasticsearch.ingest.ConfigurationUtils.readOptionalMap;
import static org.elasticsearch.ingest.ConfigurationUtils.readOptionalStringProperty;
import static org.elasticsearch.ingest.ConfigurationUtils.readStringProperty;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.ingest.AbstractProcessor;
import org.elasticsearch.ingest.IngestDocument;
import org.elasticsearch.ingest.Processor;
import org.embeddinggemma.elasticsearch.ElementType;
import org.embeddinggemma.elasticsearch.EmbeddingService;
import org.embeddinggemma.elasticsearch.EmbeddingStats;
import org.embeddinggemma.elasticsearch.ModelHandle;
import org.embeddinggemma.elasticsearch.ModelRegistry;
import org.embeddinggemma.elasticsearch.PromptSpec;
import org.embeddinggemma.engine.ChunkingSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.engine.TextRejectedException;

/**
 * The {@code embedding_gemma} ingest processor: embeds the text of {@code field} and writes the
 * vector to {@code target_field}. Asynchronous: the model runs on the plugin's thread pool.
 */
public final class EmbeddingGemmaProcessor extends AbstractProcessor {

  public static final String TYPE = "embedding_gemma";

  private final EmbeddingService service;
  private final String modelId;
  private final String field;
  private final String targetField;
  private final String titleField;
  private final PromptSpec prompt;
  private final Integer dims;
  private final ElementType elementType;
  private final boolean ignoreMissing;
  private final boolean truncate;
  private final String truncatedField;
  private final String fingerprintField;
  private final ChunkingSettings chunking;
  private final boolean includePassageText;
  private final boolean validatesModel;

  EmbeddingGemmaProcessor(String tag, String description, EmbeddingService service, Options options, boolean validatesModel) {
    super(tag, description);
    this.service = service;
    this.modelId = options.modelId();
    this.field = options.field();
    this.targetField = options.targetField();
    this.titleField = options.titleField();
    this.prompt = options.prompt();
    this.dims = options.dims();
    this.elementType = options.elementType();
    this.ignoreMissing = options.ignoreMissing();
    this.truncate = options.truncate();
    this.truncatedField = options.truncatedField();
    this.fingerprintField = options.fingerprintField();
    this.chunking = options.chunking();
    this.includePassageText = options.includePassageText();
    this.validatesModel = validatesModel;
  }

  /**
   * A processor's configuration once parsed and checked.
   *
   * @param dims null for the model's own
   * @param titleField null for none
   * @param truncatedField null for none
   * @param fingerprintField where the fingerprint of the model that made the vectors is written; null for nowhere
   * @param chunking null to embed each text whole
   */
  record Options(
      String modelId,
      String field,
      String targetField,
      String titleField,
      PromptSpec prompt,
      Integer dims,
      ElementType elementType,
      boolean ignoreMissing,
      boolean truncate,
      String truncatedField,
      String fingerprintField,
      ChunkingSettings chunking,
      boolean includePassageText) {}

  @Override
  public boolean isAsync() {
    return true;
  }

  @Override
  public void execute(IngestDocument document, BiConsumer<IngestDocument, Exception> handler) {
    String text;
    String title;
    try {
      Object value = document.getFieldValue(field, Object.class, ignoreMissing);
      if (value == null && ignoreMissing) {
        handler.accept(document, null);
        return;
      }
      title = titleField == null ? null : titleOf(document.getFieldValue(titleField, Object.class, true));
      if (chunking != null) {
        embedPassages(document, textsOf(field, value), value instanceof List<?>, title, handler);
        return;
      }
      text = textOf(field, value);
    } catch (Exception e) {
      handler.accept(null, e);
      return;
    }
    service.embed(
        modelId,
        text,
        title,
        prompt,
        dims,
        EmbeddingStats.Source.DOCUMENT,
        ActionListener.wrap(
            embedding -> {
              if (embedding.truncated() && !truncate) {
                handler.accept(null, new IllegalArgumentException(
                    "field [" + field + "] is longer than the " + embedding.tokenCount() + " tokens model [" + modelId
                        + "] takes (prompt and special tokens included); shorten it, or set [truncate] to true to embed its start"));
                return;
              }
              document.setFieldValue(targetField, elementType.toList(embedding));
              if (truncatedField != null) {
                document.setFieldValue(truncatedField, embedding.truncated());
              }
              if (fingerprintField != null) {
                document.setFieldValue(fingerprintField, embedding.model().value());
              }
              handler.accept(document, null);
            },
            e -> handler.accept(null, forDocument(e, false))));
  }

  /** A failure named by the field it concerns: {@code field [body][2] makes 120 passages …}. */
  private Exception forDocument(Exception failure, boolean array) {
    if (failure instanceof TextRejectedException rejected) {
      String element = array && rejected.index() >= 0 ? "[" + rejected.index() + "]" : "";
      return new IllegalArgumentException("field [" + field + "]" + element + " " + rejected.reason());
    }
    return failure;
  }

  /** With chunking: one object per passage in {@code target_field}, for a {@code nested} mapping. */
  private void embedPassages(
      IngestDocument document, List<String> texts, boolean array, String title, BiConsumer<IngestDocument, Exception> handler) {
    service.embedPassages(
        modelId,
        texts,
        title,
        prompt,
        dims,
        chunking,
        ActionListener.wrap(
            passages -> {
              List<Map<String, Object>> objects = new ArrayList<>(passages.size());
              boolean limited = false;
              for (EmbeddingService.EmbeddedPassage passage : passages) {
                Map<String, Object> object = new LinkedHashMap<>();
                object.put("vector", elementType.toList(passage.embedding()));
                if (includePassageText) {
                  object.put("text", passage.text());
                }
                if (array) {
                  object.put("element", passage.element());
                }
                object.put("start_offset", passage.passage().start());
                object.put("end_offset", passage.passage().end());
                objects.add(object);
                limited |= passage.limited();
              }
              document.setFieldValue(targetField, objects);
              if (truncatedField != null) {
                document.setFieldValue(truncatedField, limited);
              }
              if (fingerprintField != null) {
                // One model copy embeds all of a document's passages.
                document.setFieldValue(fingerprintField, passages.get(0).embedding().model().value());
              }
              handler.accept(document, null);
            },
            e -> handler.accept(null, forDocument(e, array))));
  }

  private static List<String> textsOf(String field, Object value) {
    if (!(value instanceof List<?> values)) {
      return List.of(textOf(field, value));
    }
    if (values.isEmpty()) {
      throw new IllegalArgumentException("field [" + field + "] is an empty array: there is no text to embed");
    }
    List<String> texts = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      Object element = values.get(i);
      if (element instanceof List<?>) {
        throw new IllegalArgumentException("field [" + field + "][" + i + "] is an array: only strings can be embedded");
      }
      texts.add(textOf(field + "][" + i, element));
    }
    return texts;
  }

  @Override
  public IngestDocument execute(IngestDocument document) {
    throw new UnsupportedOperationException("the " + TYPE + " processor is asynchronous");
  }

  /**
   * Runs when a pipeline is created or changed through the API, never when a node applies the
   * cluster state: a model that is missing or broken on the node that validates the request fails
   * the request, while a node that lacks it still creates the pipeline and reports the problem on
   * each document, healing as soon as the files are there.
   */
  @Override
  public void extraValidation() {
    if (!validatesModel) {
      return;
    }
    ModelHandle model = service.registry().model(modelId);
    ModelHandle.State state = model.state();
    if (state == ModelHandle.State.NOT_INSTALLED) {
      throw newConfigurationException(
          TYPE, getTag(), "model_id", model.unavailable().getMessage() + "; installed models: " + service.registry().installed());
    }
    if (state == ModelHandle.State.FAILED) {
      throw newConfigurationException(TYPE, getTag(), "model_id", model.unavailable().getMessage());
    }
    TextEmbedder loaded = model.loadedEmbedder();
    if (dims != null && loaded != null && dims > loaded.modelDims()) {
      throw newConfigurationException(TYPE, getTag(), "dims", EmbeddingService.dimsMessage(modelId, loaded.modelDims(), dims).substring("[dims] ".length()));
    }
    if (chunking != null && loaded != null && chunking.maxTokens() > loaded.maxTokens()) {
      throw newConfigurationException(
          TYPE, getTag(), "chunking", "[max_tokens] " + chunking.maxTokens() + " exceeds the " + loaded.maxTokens() + " tokens model [" + modelId + "] takes");
    }
  }

  private static String textOf(String field, Object value) {
    if (value == null) {
      throw new IllegalArgumentException("field [" + field + "] is null: there is no text to embed");
    }
    if (!(value instanceof String text)) {
      String hint = value instanceof List<?> ? "; set [chunking] to embed each element's passages" : "";
      throw new IllegalArgumentException("field [" + field + "] is " + describe(value) + ": only a string can be embedded" + hint);
    }
    if (text.isBlank()) {
      throw new IllegalArgumentException("field [" + field + "] is empty: there is no text to embed");
    }
    if (!EmbeddingInput.hasContent(text)) {
      throw new IllegalArgumentException("field [" + field + "] has nothing to embed: " + EmbeddingInput.NO_CONTENT);
    }
    return text;
  }

  /** What a document value is, in the words of JSON rather than Java. */
  static String describe(Object value) {
    if (value instanceof Number) {
      return "a number";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    if (value instanceof Map<?, ?>) {
      return "an object";
    }
    if (value instanceof List<?> || value instanceof Object[]) {
      return "an array";
    }
    if (value instanceof byte[]) {
      return "binary";
    }
    return "a value of type [" + value.getClass().getSimpleName() + "]";
  }

  private String titleOf(Object value) {
    if (value == null || value instanceof String) {
      return (String) value;
    }
    throw new IllegalArgumentException("title_field [" + titleField + "] is " + describe(value) + ": a title must be a string");
  }

  @Override
  public String getType() {
    return TYPE;
  }

  /**
   * Validates a processor's configuration from what is cheap to know, and starts loading its model
   * in the background on ingest nodes. Never loads a model on the calling thread: Elasticsearch
   * creates processors on the cluster state applier thread of every node.
   *
   * <p>{@code Processor.Factory#create}'s signature differs between Elasticsearch versions: {@code
   * EmbeddingGemmaProcessorFactory}, in each range's adapter, declares it and calls {@link
   * #create(String, String, Map)}.
   */
  public abstract static class Factory implements Processor.Factory {

    private final EmbeddingService service;
    private final boolean ingestNode;

    /**
     * @param ingestNode whether this node runs pipelines: only such nodes load models and check them
     *     when a pipeline is put
     */
    protected Factory(EmbeddingService service, boolean ingestNode) {
      this.service = service;
      this.ingestNode = ingestNode;
    }

    /** A processor for {@code config}, whose keys it removes as it reads them. */
    public final EmbeddingGemmaProcessor create(String tag, String description, Map<String, Object> config) {
      String modelId = readStringProperty(TYPE, tag, config, "model_id", service.defaultModelId());
      String field = readStringProperty(TYPE, tag, config, "field");
      String targetField = readStringProperty(TYPE, tag, config, "target_field");
      String task = readOptionalStringProperty(TYPE, tag, config, "task");
      String customPrompt = readOptionalStringProperty(TYPE, tag, config, "prompt");
      String titleField = readOptionalStringProperty(TYPE, tag, config, "title_field");
      Integer dims = readIntProperty(TYPE, tag, config, "dims", null);
      String elementTypeName = readStringProperty(TYPE, tag, config, "element_type", ElementType.BYTE.externalName());
      boolean ignoreMissing = readBooleanProperty(TYPE, tag, config, "ignore_missing", false);
      boolean truncate = readBooleanProperty(TYPE, tag, config, "truncate", true);
      String truncatedField = readOptionalStringProperty(TYPE, tag, config, "truncated_field");
      String fingerprintField = readOptionalStringProperty(TYPE, tag, config, "fingerprint_field");
      Map<String, Object> chunkingConfig = readOptionalMap(TYPE, tag, config, "chunking");
      ChunkingSettings chunking = chunkingConfig == null ? null : chunking(tag, chunkingConfig);
      boolean includePassageText = chunkingConfig == null || readBooleanProperty(TYPE, tag, chunkingConfig, "include_text", true);
      if (chunkingConfig != null && !chunkingConfig.isEmpty()) {
        throw newConfigurationException(
            TYPE, tag, "chunking", "unknown options " + new TreeSet<>(chunkingConfig.keySet())
                + "; expected strategy, max_tokens, overlap, max_passages, on_too_many_passages and include_text");
      }

      try {
        ModelRegistry.validateModelId(modelId);
      } catch (IllegalArgumentException e) {
        throw newConfigurationException(TYPE, tag, "model_id", e.getMessage());
      }
      PromptSpec prompt;
      try {
        prompt = PromptSpec.parse(task, customPrompt, Task.DOCUMENT);
      } catch (IllegalArgumentException e) {
        throw newConfigurationException(TYPE, tag, customPrompt != null && task == null ? "prompt" : "task", e.getMessage());
      }
      ElementType elementType;
      try {
        elementType = ElementType.fromName(elementTypeName);
      } catch (IllegalArgumentException e) {
        throw newConfigurationException(TYPE, tag, "element_type", e.getMessage());
      }
      if (dims != null && dims < 1) {
        throw newConfigurationException(TYPE, tag, "dims", "must be at least 1, got " + dims);
      }
      if (truncatedField != null && !truncate && chunking == null) {
        throw newConfigurationException(
            TYPE, tag, "truncated_field", "has nothing to record with [truncate] false: texts that are too long fail instead");
      }
      if (ingestNode) {
        service.registry().model(modelId).ensureLoading();
      }
      Options options =
          new Options(
              modelId, field, targetField, titleField, prompt, dims, elementType, ignoreMissing, truncate, truncatedField,
              fingerprintField, chunking, includePassageText);
      return new EmbeddingGemmaProcessor(tag, description, service, options, ingestNode);
    }

    /** Defaults that suit EmbeddingGemma retrieval: passages of whole sentences up to 256 tokens, one sentence repeated. */
    private static ChunkingSettings chunking(String tag, Map<String, Object> config) {
      String strategyName = readStringProperty(TYPE, tag, config, "strategy", ChunkingSettings.Strategy.SENTENCE.externalName());
      ChunkingSettings.Strategy strategy;
      try {
        strategy = ChunkingSettings.Strategy.fromName(strategyName);
      } catch (IllegalArgumentException e) {
        throw newConfigurationException(TYPE, tag, "chunking", "[strategy] " + e.getMessage());
      }
      int maxTokens = readIntProperty(TYPE, tag, config, "max_tokens", ChunkingSettings.DEFAULT_MAX_TOKENS);
      int overlap = readIntProperty(TYPE, tag, config, "overlap", strategy == ChunkingSettings.Strategy.SENTENCE ? 1 : 0);
      int maxPassages = readIntProperty(TYPE, tag, config, "max_passages", ChunkingSettings.DEFAULT_MAX_PASSAGES);
      String onTooMany = readStringProperty(TYPE, tag, config, "on_too_many_passages", "fail");
      if (!onTooMany.equals("fail") && !onTooMany.equals("keep_first")) {
        throw newConfigurationException(
            TYPE, tag, "chunking", "[on_too_many_passages] must be [fail] or [keep_first], got [" + onTooMany + "]");
      }
      try {
        return new ChunkingSettings(strategy, maxTokens, overlap, maxPassages, onTooMany.equals("keep_first"));
      } catch (IllegalArgumentException e) {
        throw newConfigurationException(TYPE, tag, "chunking", e.getMessage());
      }
    }
  }
}
