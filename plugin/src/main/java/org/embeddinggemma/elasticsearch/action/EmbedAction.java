package org.embeddinggemma.elasticsearch.action;

import static org.elasticsearch.action.ValidateActions.addValidationError;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.elasticsearch.action.ActionRequest;
import org.elasticsearch.action.ActionRequestValidationException;
import org.elasticsearch.action.ActionResponse;
import org.elasticsearch.action.ActionType;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.common.io.stream.Writeable;
import org.elasticsearch.tasks.CancellableTask;
import org.elasticsearch.tasks.Task;
import org.elasticsearch.tasks.TaskId;
import org.elasticsearch.xcontent.ToXContentObject;
import org.elasticsearch.xcontent.XContentBuilder;
import org.embeddinggemma.elasticsearch.ElementType;
import org.embeddinggemma.elasticsearch.EmbeddingStats;
import org.embeddinggemma.elasticsearch.ModelRegistry;
import org.embeddinggemma.elasticsearch.PromptSpec;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;

/**
 * Embeds texts on the local node: behind {@code POST _embedding_gemma/_embed} and the {@code
 * embedding_gemma} query vector builder.
 */
public final class EmbedAction {

  public static final String NAME = "cluster:monitor/embedding_gemma/embed";
  public static final ActionType<Response> INSTANCE = new ActionType<>(NAME);

  private EmbedAction() {}

  /** What to embed and how. */
  public static final class Request extends ActionRequest {
    private final String modelId;
    private final List<String> texts;
    private final String task;
    private final String prompt;
    private final String title;
    private final Integer dims;
    private final String elementType;
    private final EmbeddingStats.Source source;

    /**
     * @param modelId the model, or null for the node's default
     * @param task a task name or {@code none}; null for the default of {@code source}
     * @param prompt a custom prompt instead of the task's, or null
     * @param dims Matryoshka dims, or null for the model's default
     * @param elementType {@code byte} or {@code float}, or null for {@code byte}
     */
    public Request(
        String modelId, List<String> texts, String task, String prompt, String title, Integer dims, String elementType, EmbeddingStats.Source source) {
      this.modelId = modelId;
      this.texts = texts == null ? List.of() : List.copyOf(texts);
      this.task = task;
      this.prompt = prompt;
      this.title = title;
      this.dims = dims;
      this.elementType = elementType;
      this.source = Objects.requireNonNull(source);
    }

    public Request(StreamInput in) throws IOException {
      super(in);
      modelId = in.readOptionalString();
      texts = in.readStringCollectionAsList();
      task = in.readOptionalString();
      prompt = in.readOptionalString();
      title = in.readOptionalString();
      dims = in.readOptionalVInt();
      elementType = in.readOptionalString();
      source = EmbeddingStats.Source.values()[in.readVInt()];
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
      super.writeTo(out);
      out.writeOptionalString(modelId);
      out.writeStringCollection(texts);
      out.writeOptionalString(task);
      out.writeOptionalString(prompt);
      out.writeOptionalString(title);
      out.writeOptionalVInt(dims);
      out.writeOptionalString(elementType);
      out.writeVInt(source.ordinal());
    }

    @Override
    public ActionRequestValidationException validate() {
      ActionRequestValidationException errors = null;
      if (modelId != null) {
        try {
          ModelRegistry.validateModelId(modelId);
        } catch (IllegalArgumentException e) {
          errors = addValidationError(e.getMessage(), errors);
        }
      }
      if (texts.isEmpty()) {
        errors = addValidationError("[texts] must hold at least one text", errors);
      }
      for (int i = 0; i < texts.size(); i++) {
        if (texts.get(i) == null || texts.get(i).isBlank()) {
          errors = addValidationError("[texts][" + i + "] is empty: there is no text to embed", errors);
        } else if (!EmbeddingInput.hasContent(texts.get(i))) {
          errors = addValidationError("[texts][" + i + "] has nothing to embed: " + EmbeddingInput.NO_CONTENT, errors);
        }
      }
      try {
        promptSpec();
      } catch (IllegalArgumentException e) {
        errors = addValidationError(e.getMessage(), errors);
      }
      try {
        elementType();
      } catch (IllegalArgumentException e) {
        errors = addValidationError(e.getMessage(), errors);
      }
      if (dims != null && dims < 1) {
        errors = addValidationError("[dims] must be at least 1, got " + dims, errors);
      }
      return errors;
    }

    /** Cancellable: a client that goes away stops the embedding between batches. */
    @Override
    public Task createTask(long id, String type, String action, TaskId parentTaskId, Map<String, String> headers) {
      return new CancellableTask(id, type, action, "embed " + texts.size() + " texts", parentTaskId, headers);
    }

    public String modelId() {
      return modelId;
    }

    /**
     * How errors name text {@code index} (-1 for the only one): {@code [texts][3]}, or for the query
     * vector builder, whose one text the user wrote as {@code model_text}, {@code [embedding_gemma] [model_text]}.
     */
    public String subject(int index) {
      return source == EmbeddingStats.Source.QUERY ? "[embedding_gemma] [model_text]" : "[texts][" + Math.max(0, index) + "]";
    }

    public List<String> texts() {
      return texts;
    }

    public String title() {
      return title;
    }

    public Integer dims() {
      return dims;
    }

    public EmbeddingStats.Source source() {
      return source;
    }

    public PromptSpec promptSpec() {
      return PromptSpec.parse(task, prompt, source == EmbeddingStats.Source.QUERY ? org.embeddinggemma.engine.Task.QUERY : org.embeddinggemma.engine.Task.DOCUMENT);
    }

    public ElementType elementType() {
      return elementType == null ? ElementType.BYTE : ElementType.fromName(elementType);
    }
  }

  /**
   * One text's vector, as floats (whole numbers for byte vectors).
   *
   * @param fingerprint the fingerprint of the model that made it
   */
  public record Result(float[] vector, int tokens, boolean truncated, String fingerprint) implements Writeable {

    static Result of(Embedding embedding, ElementType elementType) {
      return new Result(elementType.toFloats(embedding), embedding.tokenCount(), embedding.truncated(), embedding.model().value());
    }

    Result(StreamInput in) throws IOException {
      this(in.readFloatArray(), in.readVInt(), in.readBoolean(), in.readString());
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
      out.writeFloatArray(vector);
      out.writeVInt(tokens);
      out.writeBoolean(truncated);
      out.writeString(fingerprint);
    }
  }

  /** The vectors, in the order of the request's texts. */
  public static final class Response extends ActionResponse implements ToXContentObject {
    private final String modelId;
    private final ElementType elementType;
    private final List<Result> results;

    public Response(String modelId, ElementType elementType, List<Result> results) {
      this.modelId = modelId;
      this.elementType = elementType;
      this.results = List.copyOf(results);
    }

    public Response(StreamInput in) throws IOException {
      modelId = in.readString();
      elementType = ElementType.values()[in.readVInt()];
      results = in.readCollectionAsList(Result::new);
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
      out.writeString(modelId);
      out.writeVInt(elementType.ordinal());
      out.writeCollection(results);
    }

    public List<Result> results() {
      return results;
    }

    @Override
    public XContentBuilder toXContent(XContentBuilder builder, Params params) throws IOException {
      builder.startObject();
      builder.field("model_id", modelId);
      builder.field("element_type", elementType.externalName());
      builder.field("dims", results.isEmpty() ? 0 : results.get(0).vector().length);
      // One model copy embeds all texts of a request.
      builder.field("model_fingerprint", results.isEmpty() ? null : results.get(0).fingerprint());
      builder.startArray("embeddings");
      for (Result result : results) {
        builder.startObject();
        builder.startArray("vector");
        for (float value : result.vector()) {
          if (elementType == ElementType.BYTE) {
            builder.value((int) value);
          } else {
            builder.value(value);
          }
        }
        builder.endArray();
        builder.field("tokens", result.tokens());
        builder.field("truncated", result.truncated());
        builder.endObject();
      }
      builder.endArray();
      return builder.endObject();
    }
  }
}
