package org.embeddinggemma.testing;

import java.util.List;
import org.embeddinggemma.onnx.OnnxGraphWriter;

/**
 * An ONNX graph with EmbeddingGemma-300m's exact shapes and operations and deterministic weights:
 * the size, the compute per token and the memory of the real export, without its trained weights
 * (which cannot be downloaded here).
 *
 * <p>Token embeddings (262,144 x 768) scaled by sqrt(768); 24 Gemma 3 layers, each with RMSNorm
 * before and after attention and before and after the MLP; 3 query heads and 1 key/value head of
 * 256 with RMSNorm on queries and keys and rotary embeddings (theta 1,000,000 on every sixth layer,
 * which attends to all tokens; 10,000 on the others, which attend to tokens within 256 positions
 * either side); bidirectional attention; a gated GELU-tanh MLP of 1,152; a final norm giving {@code
 * last_hidden_state}; mean pooling over the mask, Dense 768 to 3,072 to 768 and L2 normalisation
 * giving {@code sentence_embedding}. About 307M parameters, 1.23 GB in {@code model.onnx_data}.
 *
 * <p>Weights are uniform with the variance of a fan-in initialisation, so activations stay in the
 * range of a trained model's and different texts get clearly different vectors.
 */
public final class FullScaleGemma {

  /** Hidden size. */
  public static final int HIDDEN = 768;
  /** Layers. */
  public static final int LAYERS = 24;
  /** Query heads. */
  public static final int HEADS = 3;
  /** Size of each attention head; the single key/value head has the same. */
  public static final int HEAD_DIM = 256;
  /** Gated MLP width. */
  public static final int INTERMEDIATE = 1152;
  /** Longest input, and the rows of the rotary tables. */
  public static final int MAX_POSITIONS = 2048;
  /** Sliding layers see tokens fewer than this many positions away (transformers: 512 / 2 + 1). */
  public static final int WINDOW_RADIUS = 257;

  private static final int DENSE = 3072;

  /** How the weights of the linear layers are stored. */
  public enum Weights {
    /** fp32 MatMul, as {@code onnx/model.onnx}. */
    FP32(0, "model.onnx"),
    /** 8-bit MatMulNBits, weight-only, as {@code onnx/model_quantized.onnx} is a weight-only 8-bit graph. */
    Q8(8, "model_quantized.onnx"),
    /** 4-bit MatMulNBits, as {@code onnx/model_no_gather_q4.onnx} (token embeddings stay fp32). */
    Q4(4, "model_q4.onnx");

    final int bits;
    /** The graph's file name in the export's {@code onnx/} folder. */
    public final String fileName;

    Weights(int bits, String fileName) {
      this.bits = bits;
      this.fileName = fileName;
    }
  }

  private final OnnxGraphWriter graph = new OnnxGraphWriter();
  private final GeneratedLayers layers;

  private FullScaleGemma(Weights weights) {
    this.layers = new GeneratedLayers(graph, weights.bits);
  }

  /** The fp32 graph, ready to be written with its weights stored externally. */
  public static OnnxGraphWriter graph() {
    return graph(Weights.FP32);
  }

  /**
   * The graph with its linear layers stored as {@code weights} says; the same weights as the fp32
   * graph's before quantisation, so that vectors can be compared.
   */
  public static OnnxGraphWriter graph(Weights weights) {
    return new FullScaleGemma(weights).build();
  }

  private OnnxGraphWriter build() {
    graph.input("input_ids", OnnxGraphWriter.INT64, "batch_size", "sequence_length")
        .input("attention_mask", OnnxGraphWriter.INT64, "batch_size", "sequence_length")
        .output("last_hidden_state", OnnxGraphWriter.FLOAT, "batch_size", "sequence_length", (long) HIDDEN)
        .output("sentence_embedding", OnnxGraphWriter.FLOAT, "batch_size", (long) HIDDEN);
    constants();
    // Token embeddings of standard deviation 0.03: about 0.8 after the sqrt(768) scaling.
    graph.generated("embed_tokens", GeneratedLayers.uniform(layers.nextSeed(), 0.052f), TestModels.GEMMA_VOCAB, HIDDEN);
    node("Gather", List.of("embed_tokens", "input_ids"), "embedded", "axis", 0);
    node("Mul", List.of("embedded", "embed_scale"), "hidden_0");
    masks();
    String hidden = "hidden_0";
    for (int layer = 0; layer < LAYERS; layer++) {
      hidden = layer(layer, hidden);
    }
    rmsNorm(hidden, HIDDEN, "last_hidden_state");
    pooling();
    return graph;
  }

  private void constants() {
    graph.scalar("embed_scale", (float) Math.sqrt(HIDDEN))
        .scalar("attention_scale", (float) (1 / Math.sqrt(HEAD_DIM)))
        .longs("last_axis", new long[] {-1}, 1)
        .longs("half_head", new long[] {HEAD_DIM / 2}, 1)
        .longs("full_head", new long[] {HEAD_DIM}, 1)
        .longs("first", new long[] {0}, 1)
        .longs("query_shape", new long[] {0, 0, HEADS, HEAD_DIM}, 4)
        .longs("kv_shape", new long[] {0, 0, 1, HEAD_DIM}, 4)
        .longs("hidden_shape", new long[] {0, 0, HIDDEN}, 3);
    rotaryTables("global", 1_000_000);
    rotaryTables("local", 10_000);
  }

  /** cos and sin of position x inverse frequency, the halves repeated, as transformers computes them. */
  private void rotaryTables(String name, double theta) {
    float[] cos = new float[MAX_POSITIONS * HEAD_DIM];
    float[] sin = new float[MAX_POSITIONS * HEAD_DIM];
    for (int position = 0; position < MAX_POSITIONS; position++) {
      for (int i = 0; i < HEAD_DIM / 2; i++) {
        double angle = position / Math.pow(theta, 2.0 * i / HEAD_DIM);
        for (int offset : new int[] {i, i + HEAD_DIM / 2}) {
          cos[position * HEAD_DIM + offset] = (float) Math.cos(angle);
          sin[position * HEAD_DIM + offset] = (float) Math.sin(angle);
        }
      }
    }
    graph.floats("cos_table_" + name, cos, MAX_POSITIONS, HEAD_DIM).floats("sin_table_" + name, sin, MAX_POSITIONS, HEAD_DIM);
  }

  /** Attention biases (see {@link GeneratedLayers#attentionBiases}) and the rotary tables' rows for the positions. */
  private void masks() {
    layers.attentionBiases(WINDOW_RADIUS);
    for (String name : List.of("global", "local")) {
      node("Gather", List.of("cos_table_" + name, "positions"), "cos_" + name, "axis", 0);
      node("Gather", List.of("sin_table_" + name, "positions"), "sin_" + name, "axis", 0);
    }
  }

  private String layer(int layer, String input) {
    String p = "layer_" + layer + "_";
    boolean global = layer % 6 == 5;
    String rotary = global ? "global" : "local";

    String normed = rmsNorm(input, HIDDEN, p + "attention_input");
    String query = linear(normed, HIDDEN, HIDDEN, p + "query");
    String key = linear(normed, HIDDEN, HEAD_DIM, p + "key");
    String value = linear(normed, HIDDEN, HEAD_DIM, p + "value");
    String queryHeads = heads(query, "query_shape", p + "query_heads");
    String keyHeads = heads(key, "kv_shape", p + "key_heads");
    String valueHeads = heads(value, "kv_shape", p + "value_heads");
    String queryRotated = rotate(rmsNorm(queryHeads, HEAD_DIM, p + "query_norm"), rotary, p + "query_rotated");
    String keyRotated = rotate(rmsNorm(keyHeads, HEAD_DIM, p + "key_norm"), rotary, p + "key_rotated");
    node("Transpose", List.of(keyRotated), p + "key_t", "perm", new long[] {0, 1, 3, 2});
    node("MatMul", List.of(queryRotated, p + "key_t"), p + "scores_raw");
    node("Mul", List.of(p + "scores_raw", "attention_scale"), p + "scores_scaled");
    node("Add", List.of(p + "scores_scaled", global ? "padding_bias" : "sliding_bias"), p + "scores");
    node("Softmax", List.of(p + "scores"), p + "weights", "axis", -1);
    node("MatMul", List.of(p + "weights", valueHeads), p + "context_heads");
    node("Transpose", List.of(p + "context_heads"), p + "context_t", "perm", new long[] {0, 2, 1, 3});
    node("Reshape", List.of(p + "context_t", "hidden_shape"), p + "context");
    String attended = linear(p + "context", HIDDEN, HIDDEN, p + "output");
    node("Add", List.of(input, rmsNorm(attended, HIDDEN, p + "attention_output")), p + "after_attention");

    String mlpInput = rmsNorm(p + "after_attention", HIDDEN, p + "mlp_input");
    String gate = linear(mlpInput, HIDDEN, INTERMEDIATE, p + "gate");
    String up = linear(mlpInput, HIDDEN, INTERMEDIATE, p + "up");
    node("Mul", List.of(geluTanh(gate, p + "gelu"), up), p + "gated");
    String down = linear(p + "gated", INTERMEDIATE, HIDDEN, p + "down");
    node("Add", List.of(p + "after_attention", rmsNorm(down, HIDDEN, p + "mlp_output")), p + "output_hidden");
    return p + "output_hidden";
  }

  private String heads(String input, String shape, String name) {
    return layers.heads(input, shape, name);
  }

  /** x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1]. */
  private String rotate(String input, String rotary, String name) {
    node("Slice", List.of(input, "first", "half_head", "last_axis"), name + "_x1");
    node("Slice", List.of(input, "half_head", "full_head", "last_axis"), name + "_x2");
    node("Neg", List.of(name + "_x2"), name + "_minus_x2");
    node("Concat", List.of(name + "_minus_x2", name + "_x1"), name + "_half", "axis", -1);
    node("Mul", List.of(input, "cos_" + rotary), name + "_cos");
    node("Mul", List.of(name + "_half", "sin_" + rotary), name + "_sin");
    node("Add", List.of(name + "_cos", name + "_sin"), name);
    return name;
  }

  private void pooling() {
    String up = linear(layers.meanPooled("last_hidden_state"), HIDDEN, DENSE, "dense_1");
    String down = linear(up, DENSE, HIDDEN, "dense_2");
    layers.l2Normalised(down, "sentence_embedding");
  }

  private void node(String op, List<String> inputs, String output, Object... attributes) {
    layers.node(op, inputs, output, attributes);
  }

  private String rmsNorm(String input, int size, String name) {
    return layers.rmsNorm(input, size, name);
  }

  private String linear(String input, int in, int out, String name) {
    return layers.linear(input, in, out, name);
  }

  private String geluTanh(String input, String name) {
    return layers.geluTanh(input, name);
  }
}
