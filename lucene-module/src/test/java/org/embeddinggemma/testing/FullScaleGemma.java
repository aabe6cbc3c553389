package org.embeddinggemma.testing;

import java.util.List;

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
  private static final float EPSILON = 1e-6f;
  /** Weights quantised together, along the input dimension, as the export's MatMulNBits use. */
  private static final int QUANTISATION_BLOCK = 32;

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
  private final int bits;
  private int seed;

  private FullScaleGemma(Weights weights) {
    this.bits = weights.bits;
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
    graph.generated("embed_tokens", uniform(nextSeed(), 0.052f), TestModels.GEMMA_VOCAB, HIDDEN);
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
        .scalar("two", 2f)
        .scalar("epsilon", EPSILON)
        .scalar("one", 1f)
        .scalar("half", 0.5f)
        .scalar("gelu_cubic", 0.044715f)
        .scalar("gelu_scale", (float) Math.sqrt(2 / Math.PI))
        .scalar("attention_scale", (float) (1 / Math.sqrt(HEAD_DIM)))
        .scalar("masked", -1e9f)
        .scalar("zero_float", 0f)
        .longs("zero", new long[] {0})
        .longs("one_long", new long[] {1})
        .longs("window_radius", new long[] {WINDOW_RADIUS})
        .longs("axes_0", new long[] {0}, 1)
        .longs("axes_1", new long[] {1}, 1)
        .longs("axes_2", new long[] {2}, 1)
        .longs("axes_1_2", new long[] {1, 2}, 2)
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

  /** Additive attention biases: padding for every layer, padding and the window for sliding layers. */
  private void masks() {
    node("Shape", List.of("input_ids"), "ids_shape");
    node("Gather", List.of("ids_shape", "one_long"), "length", "axis", 0);
    node("Range", List.of("zero", "length", "one_long"), "positions");
    for (String name : List.of("global", "local")) {
      node("Gather", List.of("cos_table_" + name, "positions"), "cos_" + name, "axis", 0);
      node("Gather", List.of("sin_table_" + name, "positions"), "sin_" + name, "axis", 0);
    }
    node("Cast", List.of("attention_mask"), "mask_float", "to", OnnxGraphWriter.FLOAT);
    node("Sub", List.of("one", "mask_float"), "mask_inverted");
    node("Mul", List.of("mask_inverted", "masked"), "padding_2d");
    node("Unsqueeze", List.of("padding_2d", "axes_1_2"), "padding_bias");
    node("Unsqueeze", List.of("positions", "axes_1"), "query_positions");
    node("Unsqueeze", List.of("positions", "axes_0"), "key_positions");
    node("Sub", List.of("query_positions", "key_positions"), "distance");
    node("Abs", List.of("distance"), "absolute_distance");
    node("Less", List.of("absolute_distance", "window_radius"), "in_window");
    node("Where", List.of("in_window", "zero_float", "masked"), "window_bias");
    node("Add", List.of("padding_bias", "window_bias"), "sliding_bias");
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

  /** [batch, tokens, heads * 256] to [batch, heads, tokens, 256]. */
  private String heads(String input, String shape, String name) {
    node("Reshape", List.of(input, shape), name + "_split");
    node("Transpose", List.of(name + "_split"), name, "perm", new long[] {0, 2, 1, 3});
    return name;
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

  /** x / sqrt(mean(x^2) + eps) * w, the pattern ONNX Runtime fuses into one kernel. */
  private String rmsNorm(String input, int size, String name) {
    graph.generated(name + "_weight", around(nextSeed(), 1f, 0.1f), size);
    node("Pow", List.of(input, "two"), name + "_squares");
    node("ReduceMean", List.of(name + "_squares"), name + "_mean", "axes", new long[] {-1}, "keepdims", 1);
    node("Add", List.of(name + "_mean", "epsilon"), name + "_mean_eps");
    node("Sqrt", List.of(name + "_mean_eps"), name + "_rms");
    node("Div", List.of(input, name + "_rms"), name + "_normalised");
    node("Mul", List.of(name + "_normalised", name + "_weight"), name);
    return name;
  }

  private String linear(String input, int in, int out, String name) {
    long weightSeed = nextSeed();
    float limit = (float) Math.sqrt(3.0 / in);
    if (bits == 0) {
      graph.generated(name + "_weight", uniform(weightSeed, limit), in, out);
      node("MatMul", List.of(input, name + "_weight"), name);
      return name;
    }
    // MatMulNBits: B is [N, blocks, blob] (the transpose of MatMul's [K, N]), symmetric, with the
    // default zero point (2^(bits-1)); scales are [N * blocks].
    int blocks = in / QUANTISATION_BLOCK;
    int blob = QUANTISATION_BLOCK * bits / 8;
    QuantisedWeights quantised = new QuantisedWeights(weightSeed, limit, in, out, bits);
    graph.generatedBytes(name + "_quantised", quantised::fillPacked, out, blocks, blob);
    graph.generated(name + "_scales", quantised::fillScales, (long) out * blocks);
    graph.contribNode(
        "MatMulNBits", List.of(input, name + "_quantised", name + "_scales"), List.of(name),
        "K", in, "N", out, "bits", bits, "block_size", QUANTISATION_BLOCK, "accuracy_level", 4);
    return name;
  }

  /** A linear layer's fp32 weights W[k][n] = limit * unit(seed, k * out + n), quantised per block of k. */
  private static final class QuantisedWeights {
    private final long seed;
    private final float limit;
    private final int in;
    private final int out;
    private final int bits;
    private final int blocks;
    private final int blob;
    private long memoBlock = -1;
    private float memoScale;

    QuantisedWeights(long seed, float limit, int in, int out, int bits) {
      this.seed = seed;
      this.limit = limit;
      this.in = in;
      this.out = out;
      this.bits = bits;
      this.blocks = in / QUANTISATION_BLOCK;
      this.blob = QUANTISATION_BLOCK * bits / 8;
    }

    private float weight(int k, int n) {
      return limit * unit(seed, (long) k * out + n);
    }

    /** max |W| over the block, over the largest positive level. */
    private float scale(int n, int block) {
      long id = (long) n * blocks + block;
      if (id != memoBlock) {
        float max = 0;
        for (int k = block * QUANTISATION_BLOCK; k < (block + 1) * QUANTISATION_BLOCK; k++) {
          max = Math.max(max, Math.abs(weight(k, n)));
        }
        memoBlock = id;
        memoScale = max / ((1 << (bits - 1)) - 1);
      }
      return memoScale;
    }

    private int level(int k, int n, float scale) {
      int zero = 1 << (bits - 1);
      return Math.max(0, Math.min((1 << bits) - 1, Math.round(weight(k, n) / scale) + zero));
    }

    void fillScales(long offset, float[] chunk) {
      for (int i = 0; i < chunk.length; i++) {
        long index = offset + i;
        chunk[i] = scale((int) (index / blocks), (int) (index % blocks));
      }
    }

    void fillPacked(long offset, byte[] chunk) {
      for (int i = 0; i < chunk.length; i++) {
        long index = offset + i;
        int n = (int) (index / ((long) blocks * blob));
        int inColumn = (int) (index % ((long) blocks * blob));
        int block = inColumn / blob;
        int inBlob = inColumn % blob;
        float scale = scale(n, block);
        if (bits == 8) {
          chunk[i] = (byte) level(block * QUANTISATION_BLOCK + inBlob, n, scale);
        } else {
          int k = block * QUANTISATION_BLOCK + 2 * inBlob;
          chunk[i] = (byte) (level(k, n, scale) | (level(k + 1, n, scale) << 4));
        }
      }
    }
  }

  /** 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), gelu_pytorch_tanh. */
  private String geluTanh(String input, String name) {
    node("Mul", List.of(input, input), name + "_square");
    node("Mul", List.of(name + "_square", input), name + "_cube");
    node("Mul", List.of(name + "_cube", "gelu_cubic"), name + "_cubic");
    node("Add", List.of(input, name + "_cubic"), name + "_inner");
    node("Mul", List.of(name + "_inner", "gelu_scale"), name + "_scaled");
    node("Tanh", List.of(name + "_scaled"), name + "_tanh");
    node("Add", List.of(name + "_tanh", "one"), name + "_one_plus");
    node("Mul", List.of(input, "half"), name + "_half");
    node("Mul", List.of(name + "_half", name + "_one_plus"), name);
    return name;
  }

  private void pooling() {
    node("Unsqueeze", List.of("mask_float", "axes_2"), "mask_3d");
    node("Mul", List.of("last_hidden_state", "mask_3d"), "masked_hidden");
    node("ReduceSum", List.of("masked_hidden", "axes_1"), "summed", "keepdims", 0);
    node("ReduceSum", List.of("mask_3d", "axes_1"), "counts", "keepdims", 0);
    node("Div", List.of("summed", "counts"), "pooled");
    String up = linear("pooled", HIDDEN, DENSE, "dense_1");
    String down = linear(up, DENSE, HIDDEN, "dense_2");
    node("Mul", List.of(down, down), "squares");
    node("ReduceSum", List.of("squares", "axes_1"), "sum_squares", "keepdims", 1);
    node("Sqrt", List.of("sum_squares"), "norm");
    node("Div", List.of(down, "norm"), "sentence_embedding");
  }

  private void node(String op, List<String> inputs, String output, Object... attributes) {
    graph.node(op, inputs, List.of(output), attributes);
  }

  private long nextSeed() {
    return 0x9E3779B97F4A7C15L * ++seed;
  }

  /** Uniform in [-limit, limit), a pure function of the seed and each value's index. */
  private static OnnxGraphWriter.FloatSource uniform(long seed, float limit) {
    return (offset, chunk) -> {
      for (int i = 0; i < chunk.length; i++) {
        chunk[i] = limit * unit(seed, offset + i);
      }
    };
  }

  private static OnnxGraphWriter.FloatSource around(long seed, float centre, float spread) {
    return (offset, chunk) -> {
      for (int i = 0; i < chunk.length; i++) {
        chunk[i] = centre + spread * unit(seed, offset + i);
      }
    };
  }

  /** SplitMix64 of seed and index, as a float in [-1, 1). */
  private static float unit(long seed, long index) {
    long z = seed + index * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 40) / (float) (1 << 23) - 1f;
  }
}
