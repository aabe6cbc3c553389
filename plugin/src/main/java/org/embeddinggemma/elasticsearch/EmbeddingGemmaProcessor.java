package org.embeddinggemma.elasticsearch;

import static org.elasticsearch.ingest.ConfigurationUtils.newConfigurationException;
import static org.elasticsearch.ingest.ConfigurationUtils.readBooleanProperty;
import static org.elasticsearch.ingest.ConfigurationUtils.readIntProperty;
import static org.elasticsearch.ingest.ConfigurationUtils.readOptionalStringProperty;
import static org.elasticsearch.ingest.ConfigurationUtils.readStringProperty;

import java.util.Map;
import java.util.function.BiConsumer;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.cluster.metadata.ProjectId;
import org.elasticsearch.ingest.AbstractProcessor;
import org.elasticsearch.ingest.IngestDocument;
import org.elasticsearch.ingest.Processor;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;

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

  EmbeddingGemmaProcessor(
      String tag,
      String description,
      EmbeddingService service,
      String modelId,
      String field,
      String targetField,
      String titleField,
      PromptSpec prompt,
      Integer dims,
      ElementType elementType,
      boolean ignoreMissing) {
    super(tag, description);
    this.service = service;
    this.modelId = modelId;
    this.field = field;
    this.targetField = targetField;
    this.titleField = titleField;
    this.prompt = prompt;
    this.dims = dims;
    this.elementType = elementType;
    this.ignoreMissing = ignoreMissing;
  }

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
      text = textOf(field, value);
      title = titleField == null ? null : titleOf(document.getFieldValue(titleField, Object.class, true));
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
              document.setFieldValue(targetField, elementType.toList(embedding));
              handler.accept(document, null);
            },
            e -> handler.accept(null, e)));
  }

  @Override
  public IngestDocument execute(IngestDocument document) {
    throw new UnsupportedOperationException("the " + TYPE + " processor is asynchronous");
  }

  private static String textOf(String field, Object value) {
    if (value == null) {
      throw new IllegalArgumentException("field [" + field + "] is null: there is no text to embed");
    }
    if (!(value instanceof String text)) {
      throw new IllegalArgumentException(
          "field [" + field + "] is of type [" + value.getClass().getName() + "]: only a string can be embedded");
    }
    if (text.isBlank()) {
      throw new IllegalArgumentException("field [" + field + "] is empty: there is no text to embed");
    }
    return text;
  }

  private String titleOf(Object value) {
    if (value == null || value instanceof String) {
      return (String) value;
    }
    throw new IllegalArgumentException(
        "title_field [" + titleField + "] is of type [" + value.getClass().getName() + "]: a title must be a string");
  }

  @Override
  public String getType() {
    return TYPE;
  }

  /** Validates a processor's configuration, loading its model once per node. */
  public static final class Factory implements Processor.Factory {

    private final EmbeddingService service;

    Factory(EmbeddingService service) {
      this.service = service;
    }

    @Override
    public EmbeddingGemmaProcessor create(
        Map<String, Processor.Factory> registry, String tag, String description, Map<String, Object> config, ProjectId projectId) {
      String modelId = readStringProperty(TYPE, tag, config, "model_id", service.defaultModelId());
      String field = readStringProperty(TYPE, tag, config, "field");
      String targetField = readStringProperty(TYPE, tag, config, "target_field");
      String task = readOptionalStringProperty(TYPE, tag, config, "task");
      String customPrompt = readOptionalStringProperty(TYPE, tag, config, "prompt");
      String titleField = readOptionalStringProperty(TYPE, tag, config, "title_field");
      Integer dims = readIntProperty(TYPE, tag, config, "dims", null);
      String elementTypeName = readStringProperty(TYPE, tag, config, "element_type", ElementType.BYTE.externalName());
      boolean ignoreMissing = readBooleanProperty(TYPE, tag, config, "ignore_missing", false);

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
      TextEmbedder model;
      try {
        model = service.registry().get(modelId);
      } catch (RuntimeException e) {
        throw newConfigurationException(TYPE, tag, "model_id", e.getMessage());
      }
      if (dims != null && dims > model.modelDims()) {
        throw newConfigurationException(
            TYPE, tag, "dims", "model [" + modelId + "] has " + model.modelDims() + " dims, cannot produce " + dims);
      }
      return new EmbeddingGemmaProcessor(
          tag, description, service, modelId, field, targetField, titleField, prompt, dims, elementType, ignoreMissing);
    }
  }
}
