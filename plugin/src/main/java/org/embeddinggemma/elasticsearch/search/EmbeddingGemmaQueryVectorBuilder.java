package org.embeddinggemma.elasticsearch.search;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import org.elasticsearch.TransportVersion;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.support.ContextPreservingActionListener;
import org.elasticsearch.client.internal.Client;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.common.util.concurrent.ThreadContext;
import org.elasticsearch.search.vectors.QueryVectorBuilder;
import org.elasticsearch.xcontent.ConstructingObjectParser;
import org.elasticsearch.xcontent.ObjectParser;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;
import org.embeddinggemma.elasticsearch.EmbeddingStats;
import org.embeddinggemma.elasticsearch.action.EmbedAction;

/**
 * {@code "query_vector_builder": {"embedding_gemma": {"model_text": "...", ...}}}: embeds the query
 * text on the coordinating node, with the same code path and options as the ingest processor, so
 * that a query and the documents it should find are embedded alike. {@code task} defaults to
 * {@code query}; for {@code element_type: byte} the vector is made of whole numbers in [-127, 127].
 */
public final class EmbeddingGemmaQueryVectorBuilder implements QueryVectorBuilder {

  public static final String NAME = "embedding_gemma";

  static final ParseField MODEL_ID = new ParseField("model_id");
  static final ParseField MODEL_TEXT = new ParseField("model_text");
  static final ParseField TASK = new ParseField("task");
  static final ParseField PROMPT = new ParseField("prompt");
  static final ParseField DIMS = new ParseField("dims");
  static final ParseField ELEMENT_TYPE = new ParseField("element_type");

  static final ConstructingObjectParser<EmbeddingGemmaQueryVectorBuilder, Void> PARSER =
      new ConstructingObjectParser<>(
          NAME,
          args -> new EmbeddingGemmaQueryVectorBuilder(
              (String) args[0], (String) args[1], (String) args[2], (String) args[3], (Integer) args[4], (String) args[5]));

  static {
    PARSER.declareString(ConstructingObjectParser.optionalConstructorArg(), MODEL_ID);
    PARSER.declareString(ConstructingObjectParser.constructorArg(), MODEL_TEXT);
    PARSER.declareString(ConstructingObjectParser.optionalConstructorArg(), TASK);
    PARSER.declareString(ConstructingObjectParser.optionalConstructorArg(), PROMPT);
    PARSER.declareField(ConstructingObjectParser.optionalConstructorArg(), EmbeddingGemmaQueryVectorBuilder::wholeNumber, DIMS, ObjectParser.ValueType.INT);
    PARSER.declareString(ConstructingObjectParser.optionalConstructorArg(), ELEMENT_TYPE);
  }

  /** {@code dims} as the processor and {@code _embed} take it: a whole number, or a string of one; never a fraction cut short. */
  private static Integer wholeNumber(XContentParser parser) throws IOException {
    String value = parser.text();
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("[" + DIMS.getPreferredName() + "] must be a whole number, got [" + value + "]");
    }
  }

  public static EmbeddingGemmaQueryVectorBuilder fromXContent(XContentParser parser) throws IOException {
    return PARSER.parse(parser, null);
  }

  private final String modelId;
  private final String modelText;
  private final String task;
  private final String prompt;
  private final Integer dims;
  private final String elementType;

  /**
   * Options are checked when the vector is built, so that a bad one is the search's root cause
   * rather than a parse failure four causes deep; see {@link #validate()}.
   */
  public EmbeddingGemmaQueryVectorBuilder(
      String modelId, String modelText, String task, String prompt, Integer dims, String elementType) {
    this.modelId = modelId;
    this.modelText = modelText;
    this.task = task;
    this.prompt = prompt;
    this.dims = dims;
    this.elementType = elementType;
  }

  /**
   * The options' errors, naming each option and value, or null if they are valid.
   */
  IllegalArgumentException validate() {
    var errors = request().validate();
    if (errors == null) {
      return null;
    }
    return new IllegalArgumentException(
        "[" + NAME + "] " + String.join("; ", errors.validationErrors()).replace("[texts][0]", "[model_text]"));
  }

  /** The dims asked for, or null for the model's default. */
  Integer dims() {
    return dims;
  }

  public EmbeddingGemmaQueryVectorBuilder(StreamInput in) throws IOException {
    this(in.readOptionalString(), in.readString(), in.readOptionalString(), in.readOptionalString(), in.readOptionalVInt(), in.readOptionalString());
  }

  private EmbedAction.Request request() {
    return new EmbedAction.Request(modelId, List.of(modelText == null ? "" : modelText), task, prompt, null, dims, elementType, EmbeddingStats.Source.QUERY);
  }

  @Override
  public void writeTo(StreamOutput out) throws IOException {
    out.writeOptionalString(modelId);
    out.writeString(modelText);
    out.writeOptionalString(task);
    out.writeOptionalString(prompt);
    out.writeOptionalVInt(dims);
    out.writeOptionalString(elementType);
  }

  @Override
  public String getWriteableName() {
    return NAME;
  }

  @Override
  public TransportVersion getMinimalSupportedVersion() {
    return TransportVersion.minimumCompatible();
  }

  /**
   * Embeds the text on this node. With security on, the embedding step runs in a system context:
   * it computes a vector from text the user sent and reads no data, so a user allowed to search
   * the index needs no cluster privilege for it. The listener runs in the user's context again.
   */
  @Override
  public void buildVector(Client client, ActionListener<float[]> listener) {
    IllegalArgumentException invalid = validate();
    if (invalid != null) {
      listener.onFailure(invalid);
      return;
    }
    ThreadContext threadContext = client.threadPool().getThreadContext();
    ActionListener<float[]> inUserContext = ContextPreservingActionListener.wrapPreservingContext(listener, threadContext);
    try (ThreadContext.StoredContext ignored = threadContext.stashContext()) {
      threadContext.markAsSystemContext();
      client.execute(EmbedAction.INSTANCE, request(), inUserContext.map(response -> response.results().get(0).vector()));
    }
  }

  @Override
  public XContentBuilder toXContent(XContentBuilder builder, Params params) throws IOException {
    builder.startObject();
    if (modelId != null) {
      builder.field(MODEL_ID.getPreferredName(), modelId);
    }
    builder.field(MODEL_TEXT.getPreferredName(), modelText);
    if (task != null) {
      builder.field(TASK.getPreferredName(), task);
    }
    if (prompt != null) {
      builder.field(PROMPT.getPreferredName(), prompt);
    }
    if (dims != null) {
      builder.field(DIMS.getPreferredName(), dims);
    }
    if (elementType != null) {
      builder.field(ELEMENT_TYPE.getPreferredName(), elementType);
    }
    return builder.endObject();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof EmbeddingGemmaQueryVectorBuilder that
        && Objects.equals(modelId, that.modelId)
        && Objects.equals(modelText, that.modelText)
        && Objects.equals(task, that.task)
        && Objects.equals(prompt, that.prompt)
        && Objects.equals(dims, that.dims)
        && Objects.equals(elementType, that.elementType);
  }

  @Override
  public int hashCode() {
    return Objects.hash(modelId, modelText, task, prompt, dims, elementType);
  }
}
