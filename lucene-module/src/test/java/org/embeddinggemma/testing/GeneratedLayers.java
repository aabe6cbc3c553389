package org.embeddinggemma.testing;

import java.util.List;
import org.embeddinggemma.onnx.OnnxGraphWriter;

/**
 * The building blocks that the generated full-scale graphs ({@link FullScaleGemma}, {@link
 * FullScaleGemma2}) share: deterministic weights, RMSNorm, linear layers (fp32 MatMul or
 * MatMulNBits) and GELU-tanh, written into one {@link OnnxGraphWriter}.
 *
 * <p>Weights are a pure function of a seed drawn in order and each value's index, so the same
 * builder calls always give the same graph, and a quantised graph holds the fp32 graph's weights
 * before quantisation.
 */
final class GeneratedLayers {

  private static final float EPSILON = 1e-6f;
  /** Weights quantised together, along the input dimension, as the exports' MatMulNBits use. */
  private static final int QUANTISATION_BLOCK = 32;

  private final OnnxGraphWriter graph;
  private final int bits;
  private int seed;

  /**
   * @param bits 0 for fp32 MatMul, else 8 or 4 for MatMulNBits
   */
  GeneratedLayers(OnnxGraphWriter graph, int bits) {
    this.graph = graph;
    this.bits = bits;
    graph.scalar("two", 2f)
        .scalar("epsilon", EPSILON)
        .scalar("one", 1f)
        .scalar("half", 0.5f)
        .scalar("gelu_cubic", 0.044715f)
        .scalar("gelu_scale", (float) Math.sqrt(2 / Math.PI))
        .scalar("masked", -1e9f)
        .scalar("zero_float", 0f)
        .longs("zero", new long[] {0})
        .longs("one_long", new long[] {1})
        .longs("axes_0", new long[] {0}, 1)
        .longs("axes_1", new long[] {1}, 1)
        .longs("axes_2", new long[] {2}, 1)
        .longs("axes_1_2", new long[] {1, 2}, 2);
  }

  /**
   * The token positions ({@code positions}), the mask as floats ({@code mask_float}), and additive
   * attention biases: {@code padding_bias} [batch, 1, 1, tokens] for every layer, and {@code
   * sliding_bias} [batch, 1, tokens, tokens], which also masks keys {@code bandLimit} or more
   * positions away from the query (bidirectional).
   */
  void attentionBiases(long bandLimit) {
    graph.longs("band_limit", new long[] {bandLimit});
    node("Shape", List.of("input_ids"), "ids_shape");
    node("Gather", List.of("ids_shape", "one_long"), "length", "axis", 0);
    node("Range", List.of("zero", "length", "one_long"), "positions");
    node("Cast", List.of("attention_mask"), "mask_float", "to", OnnxGraphWriter.FLOAT);
    node("Sub", List.of("one", "mask_float"), "mask_inverted");
    node("Mul", List.of("mask_inverted", "masked"), "padding_2d");
    node("Unsqueeze", List.of("padding_2d", "axes_1_2"), "padding_bias");
    node("Unsqueeze", List.of("positions", "axes_1"), "query_positions");
    node("Unsqueeze", List.of("positions", "axes_0"), "key_positions");
    node("Sub", List.of("query_positions", "key_positions"), "distance");
    node("Abs", List.of("distance"), "absolute_distance");
    node("Less", List.of("absolute_distance", "band_limit"), "in_window");
    node("Where", List.of("in_window", "zero_float", "masked"), "window_bias");
    node("Add", List.of("padding_bias", "window_bias"), "sliding_bias");
  }

  /** [batch, tokens, heads * head] to [batch, heads, tokens, head]; {@code shape} is [0, 0, heads, head]. */
  String heads(String input, String shape, String name) {
    node("Reshape", List.of(input, shape), name + "_split");
    node("Transpose", List.of(name + "_split"), name, "perm", new long[] {0, 2, 1, 3});
    return name;
  }

  /** Mean of {@code hidden} [batch, tokens, width] over the tokens of {@code mask_float}: {@code pooled}. */
  String meanPooled(String hidden) {
    node("Unsqueeze", List.of("mask_float", "axes_2"), "mask_3d");
    node("Mul", List.of(hidden, "mask_3d"), "masked_hidden");
    node("ReduceSum", List.of("masked_hidden", "axes_1"), "summed", "keepdims", 0);
    node("ReduceSum", List.of("mask_3d", "axes_1"), "counts", "keepdims", 0);
    node("Div", List.of("summed", "counts"), "pooled");
    return "pooled";
  }

  /** {@code input} [batch, width] divided by its L2 norm, as {@code output}. */
  void l2Normalised(String input, String output) {
    node("Mul", List.of(input, input), "squares");
    node("ReduceSum", List.of("squares", "axes_1"), "sum_squares", "keepdims", 1);
    node("Sqrt", List.of("sum_squares"), "norm");
    node("Div", List.of(input, "norm"), output);
  }

  void node(String op, List<String> inputs, String output, Object... attributes) {
    graph.node(op, inputs, List.of(output), attributes);
  }

  long nextSeed() {
    return 0x9E3779B97F4A7C15L * ++seed;
  }

  /** x / sqrt(mean(x^2) + eps) * w, w around 1: the pattern ONNX Runtime fuses into one kernel. */
  String rmsNorm(String input, int size, String name) {
    return rmsNorm(input, size, name, 1f);
  }

  /** As {@link #rmsNorm(String, int, String)}, with weights around {@code centre} (within 10% of it). */
  String rmsNorm(String input, int size, String name, float centre) {
    graph.generated(name + "_weight", around(nextSeed(), centre, 0.1f * centre), size);
    node("Mul", List.of(normalise(input, name), name + "_weight"), name);
    return name;
  }

  /** x / sqrt(mean(x^2) + eps), with no weight. */
  String normalise(String input, String name) {
    node("Pow", List.of(input, "two"), name + "_squares");
    node("ReduceMean", List.of(name + "_squares"), name + "_mean", "axes", new long[] {-1}, "keepdims", 1);
    node("Add", List.of(name + "_mean", "epsilon"), name + "_mean_eps");
    node("Sqrt", List.of(name + "_mean_eps"), name + "_rms");
    node("Div", List.of(input, name + "_rms"), name + "_normalised");
    return name + "_normalised";
  }

  /** A linear layer without bias, weights uniform with the variance of a fan-in initialisation. */
  String linear(String input, int in, int out, String name) {
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

  /** 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), gelu_pytorch_tanh. */
  String geluTanh(String input, String name) {
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

  /** A linear layer's fp32 weights W[k][n] = limit * unit(seed, k * out + n), quantised per block of k. */
  private static final class QuantisedWeights {
    private final long seed;
    private final float limit;
    private final int out;
    private final int bits;
    private final int blocks;
    private final int blob;
    private long memoBlock = -1;
    private float memoScale;

    QuantisedWeights(long seed, float limit, int in, int out, int bits) {
      this.seed = seed;
      this.limit = limit;
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

  /** Uniform in [-limit, limit), a pure function of the seed and each value's index. */
  static OnnxGraphWriter.FloatSource uniform(long seed, float limit) {
    return (offset, chunk) -> {
      for (int i = 0; i < chunk.length; i++) {
        chunk[i] = limit * unit(seed, offset + i);
      }
    };
  }

  static OnnxGraphWriter.FloatSource around(long seed, float centre, float spread) {
    return (offset, chunk) -> {
      for (int i = 0; i < chunk.length; i++) {
        chunk[i] = centre + spread * unit(seed, offset + i);
      }
    };
  }

  /** SplitMix64 of seed and index, as a float in [-1, 1). */
  static float unit(long seed, long index) {
    long z = seed + index * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 40) / (float) (1 << 23) - 1f;
  }
}
