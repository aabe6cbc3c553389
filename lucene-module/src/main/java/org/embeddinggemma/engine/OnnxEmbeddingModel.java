package org.embeddinggemma.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An ONNX Runtime session over an embedding graph, checked at load and run in padded batches.
 *
 * <p>The graph's inputs are read once at load ({@link GraphInputs}: token ids and attention mask,
 * optionally segment ids and media inputs fed empty), and it must output float {@value
 * PoolingStrategy#SENTENCE_EMBEDDING_OUTPUT} [batch, dims] or {@value
 * PoolingStrategy#TOKEN_EMBEDDINGS_OUTPUT} [batch, tokens, hidden]. Activations are fp32: fp16
 * graphs are rejected because EmbeddingGemma's activations overflow in fp16. One session serves
 * all threads.
 *
 * <p>At load the graph is probed for {@link BatchInvariance}: dynamically quantised graphs are
 * reported as not {@link #batchInvariant()}, and callers run them one text at a time.
 */
public final class OnnxEmbeddingModel implements AutoCloseable {

  private final OrtEnvironment environment;
  private final OrtSession session;
  private final Path graph;
  private final PoolingStrategy pooling;
  private final GraphInputs inputs;
  private final BatchInvariance batchInvariance;
  private final String quantization;

  /** The metadata key under which {@code bin/quantize} records how a graph was quantised. */
  public static final String QUANTIZATION_METADATA = "embedding_gemma.quantization";

  private OnnxEmbeddingModel(
      OrtEnvironment environment, OrtSession session, Path graph, PoolingStrategy pooling, GraphInputs inputs) throws OrtException {
    this.environment = environment;
    this.session = session;
    this.graph = graph;
    this.pooling = pooling;
    this.inputs = inputs;
    this.quantization = session.getMetadata().getCustomMetadataValue(QUANTIZATION_METADATA).orElse(null);
    this.batchInvariance = BatchInvariance.probe(this::embed);
  }

  /**
   * Loads and checks a graph, then runs it on probe inputs to learn its output dims and whether
   * batching changes its results.
   *
   * @param graph the {@code .onnx} file; external weights ({@code .onnx_data}) must lie beside it
   * @param pooling the pooling to use, or {@code null} to take {@code sentence_embedding} when the
   *     graph has it and mean pooling of {@code last_hidden_state} otherwise
   * @param intraOpThreads threads ONNX Runtime uses inside one inference; at least 1
   * @throws ModelLoadException if the graph cannot be loaded or run, or lacks what is needed
   */
  public static OnnxEmbeddingModel load(Path graph, PoolingStrategy pooling, int intraOpThreads) {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("intraOpThreads must be at least 1, got " + intraOpThreads);
    }
    OrtEnvironment environment = NativeRuntime.onnxEnvironment();
    OrtSession session;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      // Failures reach callers as exceptions and are logged by them; ONNX Runtime would also print
      // each one to the process's stderr, outside the host's log (the window probe fails on purpose).
      options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
      session = environment.createSession(graph.toString(), options);
    } catch (OrtException e) {
      throw new ModelLoadException(
          "cannot load ONNX graph [" + graph + "]; if its weights are external, keep "
              + graph.getFileName() + "_data next to it",
          e);
    }
    try {
      GraphInputs inputs = GraphInputs.of(graph, session.getInputInfo());
      PoolingStrategy chosen = choosePooling(graph, session.getOutputInfo(), pooling);
      return new OnnxEmbeddingModel(environment, session, graph, chosen, inputs);
    } catch (OrtException | RuntimeException e) {
      closeQuietly(session, e);
      if (e instanceof ModelLoadException loadException) {
        throw loadException;
      }
      throw new ModelLoadException("cannot run ONNX graph [" + graph + "] on a probe input of token ids 1000-1010", e);
    }
  }

  private static PoolingStrategy choosePooling(
      Path graph, Map<String, NodeInfo> outputs, PoolingStrategy requested) {
    PoolingStrategy pooling = requested;
    if (pooling == null) {
      pooling =
          outputs.containsKey(PoolingStrategy.SENTENCE_EMBEDDING_OUTPUT)
              ? PoolingStrategy.SENTENCE_EMBEDDING
              : PoolingStrategy.MEAN;
    }
    String name = pooling.outputName();
    NodeInfo output = outputs.get(name);
    if (output == null) {
      throw new ModelLoadException(
          "ONNX graph [" + graph + "] has no output [" + name + "] for pooling [" + pooling.externalName()
              + "]; found outputs " + describe(outputs)
              + "; an embedding graph needs sentence_embedding [batch, dims] or last_hidden_state [batch, tokens, hidden]");
    }
    int rank = pooling == PoolingStrategy.SENTENCE_EMBEDDING ? 2 : 3;
    if (!(output.getInfo() instanceof TensorInfo tensor)
        || tensor.getShape().length != rank
        || tensor.type != OnnxJavaType.FLOAT) {
      String fp16 =
          output.getInfo() instanceof TensorInfo tensor && tensor.type == OnnxJavaType.FLOAT16
              ? "; EmbeddingGemma does not support fp16 activations: use model.onnx, model_quantized.onnx or model_q4.onnx"
              : "";
      throw new ModelLoadException(
          "ONNX graph [" + graph + "] output [" + name + "] is " + output.getInfo() + ", expected a float tensor of rank "
              + rank + fp16);
    }
    return pooling;
  }

  private static String describe(Map<String, NodeInfo> nodes) {
    Set<String> described = new TreeSet<>();
    nodes.forEach((name, info) -> described.add(name + " " + info.getInfo()));
    return described.toString();
  }

  private static void closeQuietly(OrtSession session, Exception failure) {
    try {
      session.close();
    } catch (OrtException e) {
      failure.addSuppressed(e);
    }
  }

  /** The pooling in use. */
  public PoolingStrategy pooling() {
    return pooling;
  }

  /** The number of dims of the vectors this graph produces. */
  public int dims() {
    return batchInvariance.dims();
  }

  /**
   * Whether a text gets the same vector (cosine &ge; 0.99999) alone and in a padded batch. False for
   * dynamically quantised graphs: run those one text at a time.
   */
  public boolean batchInvariant() {
    return batchInvariance.invariant();
  }

  /**
   * How {@code bin/quantize} quantised the graph (its {@value #QUANTIZATION_METADATA} metadata), or
   * null for a graph it did not make.
   */
  public String quantization() {
    return quantization;
  }

  /** What the graph's inputs are: which are fed empty, whether segment ids are fed. */
  public GraphInputs inputs() {
    return inputs;
  }

  /** The graph file. */
  public Path graph() {
    return graph;
  }

  /**
   * Embeds a batch, padded to its longest text.
   *
   * @return one vector of {@link #dims()} per text, in order, as the graph and pooling make it (not
   *     normalised here)
   * @throws IllegalArgumentException if the batch is empty or holds an empty text
   * @throws InferenceException if ONNX Runtime fails
   */
  public float[][] embed(List<TokenizedText> batch) {
    if (batch.isEmpty()) {
      throw new IllegalArgumentException("cannot embed an empty batch");
    }
    int size = batch.size();
    int tokens = 0;
    for (TokenizedText text : batch) {
      if (text.length() == 0) {
        throw new IllegalArgumentException("cannot embed a text of zero tokens");
      }
      tokens = Math.max(tokens, text.length());
    }
    // Direct buffers in native order: ONNX Runtime reads them in place instead of copying.
    LongBuffer ids = directLongs(size * tokens);
    LongBuffer mask = directLongs(size * tokens);
    long[][] maskRows = new long[size][tokens];
    for (int b = 0; b < size; b++) {
      long[] textIds = batch.get(b).ids();
      Arrays.fill(maskRows[b], 0, textIds.length, 1L);
      ids.position(b * tokens);
      ids.put(textIds);
      mask.position(b * tokens);
      mask.put(maskRows[b]);
    }
    ids.rewind();
    mask.rewind();
    long[] shape = {size, tokens};
    Map<String, OnnxTensor> tensors = Map.of();
    try {
      tensors = inputs.tensors(environment, ids, mask, shape);
      try (OrtSession.Result result = session.run(tensors, Set.of(pooling.outputName()))) {
        OnnxValue value = result.get(pooling.outputName()).orElseThrow();
        OnnxTensor output = (OnnxTensor) value;
        long[] outputShape = output.getInfo().getShape();
        FloatBuffer buffer = output.getFloatBuffer();
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        int width = (int) outputShape[outputShape.length - 1];
        if (pooling == PoolingStrategy.SENTENCE_EMBEDDING) {
          float[][] vectors = new float[size][width];
          for (int b = 0; b < size; b++) {
            System.arraycopy(values, b * width, vectors[b], 0, width);
          }
          return vectors;
        }
        return pooling.pool(values, maskRows, width);
      }
    } catch (OrtException e) {
      throw new InferenceException(
          "ONNX Runtime failed on a batch of " + size + " texts of up to " + tokens + " tokens with graph ["
              + graph + "]: " + e.getMessage(),
          "the model failed on " + (size == 1 ? "a text" : "a batch of " + size + " texts") + " of " + tokens + " tokens: "
              + NativeErrors.plain(e.getMessage()),
          e);
    } finally {
      tensors.values().forEach(OnnxTensor::close);
    }
  }

  /**
   * A float tensor the graph computed on the way to its output.
   *
   * @param shape its shape
   * @param values its values, row-major
   */
  public record Intermediate(long[] shape, float[] values) {}

  /**
   * Runs one text and returns the graph outputs named {@code names}: for graphs that expose
   * intermediate tensors as extra outputs, such as a quantiser's calibration graph.
   *
   * @throws IllegalArgumentException if a name is not a float output of the graph
   * @throws InferenceException if ONNX Runtime fails
   */
  public Map<String, Intermediate> intermediates(TokenizedText text, Set<String> names) {
    int tokens = text.length();
    LongBuffer ids = directLongs(tokens).put(text.ids());
    LongBuffer mask = directLongs(tokens);
    for (int i = 0; i < tokens; i++) {
      mask.put(1L);
    }
    ids.rewind();
    mask.rewind();
    Map<String, OnnxTensor> tensors = Map.of();
    try {
      tensors = inputs.tensors(environment, ids, mask, new long[] {1, tokens});
      try (OrtSession.Result result = session.run(tensors, names)) {
        Map<String, Intermediate> captured = new java.util.LinkedHashMap<>();
        for (String name : names) {
          if (!(result.get(name).orElseThrow() instanceof OnnxTensor tensor) || tensor.getInfo().type != OnnxJavaType.FLOAT) {
            throw new IllegalArgumentException("graph output [" + name + "] of [" + graph + "] is not a float tensor");
          }
          FloatBuffer buffer = tensor.getFloatBuffer();
          float[] values = new float[buffer.remaining()];
          buffer.get(values);
          captured.put(name, new Intermediate(tensor.getInfo().getShape(), values));
        }
        return captured;
      }
    } catch (OrtException e) {
      throw new InferenceException(
          "ONNX Runtime failed on a text of " + tokens + " tokens with graph [" + graph + "]: " + e.getMessage(),
          "the model failed on a text of " + tokens + " tokens: " + NativeErrors.plain(e.getMessage()),
          e);
    } finally {
      tensors.values().forEach(OnnxTensor::close);
    }
  }

  private static LongBuffer directLongs(int count) {
    return ByteBuffer.allocateDirect(count * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("cannot close ONNX session of [" + graph + "]: " + e.getMessage(), e);
    }
  }
}
