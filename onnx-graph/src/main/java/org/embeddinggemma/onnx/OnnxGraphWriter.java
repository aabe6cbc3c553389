package org.embeddinggemma.onnx;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes ONNX graphs (the {@code onnx.proto} ModelProto wire format) node by node, with weights
 * streamed to an external data file: how tests build models shaped like the EmbeddingGemma export
 * without downloading one.
 *
 * <p>Field numbers are those of {@code onnx/onnx.proto} (IR version 8, opset 17).
 */
public final class OnnxGraphWriter {

  /** ONNX TensorProto.DataType values. */
  public static final int FLOAT = OnnxModel.FLOAT;
  public static final int INT64 = OnnxModel.INT64;
  public static final int FLOAT16 = OnnxModel.FLOAT16;
  public static final int UINT8 = OnnxModel.UINT8;

  private final List<byte[]> nodes = new ArrayList<>();
  private final List<Initializer> initializers = new ArrayList<>();
  private final List<byte[]> inputs = new ArrayList<>();
  private final List<byte[]> outputs = new ArrayList<>();

  /** Values of a weight too large to hold in memory, produced while the graph is written. */
  @FunctionalInterface
  public interface FloatSource {
    /** Fills {@code chunk} with the values from index {@code offset} on. */
    void fill(long offset, float[] chunk);
  }

  /** Bytes of a weight too large to hold in memory, produced while the graph is written. */
  @FunctionalInterface
  public interface ByteSource {
    /** Fills {@code chunk} with the bytes from index {@code offset} on. */
    void fill(long offset, byte[] chunk);
  }

  private interface Generator {
    void writeTo(OutputStream out) throws IOException;
  }

  private record Initializer(String name, int dataType, long[] dims, byte[] raw, Generator generator, long byteLength) {}

  private boolean contribOps;

  /** A graph input; each dim is a Long (fixed) or a String (symbolic). */
  public OnnxGraphWriter input(String name, int elementType, Object... dims) {
    inputs.add(OnnxProto.valueInfo(name, elementType, dims));
    return this;
  }

  /** A graph output; each dim is a Long (fixed) or a String (symbolic). */
  public OnnxGraphWriter output(String name, int elementType, Object... dims) {
    outputs.add(OnnxProto.valueInfo(name, elementType, dims));
    return this;
  }

  /** A float weight. */
  public OnnxGraphWriter floats(String name, float[] values, long... dims) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(values);
    initializers.add(new Initializer(name, FLOAT, dims, buffer.array(), null, buffer.capacity()));
    return this;
  }

  /** A float scalar constant. */
  public OnnxGraphWriter scalar(String name, float value) {
    return floats(name, new float[] {value});
  }

  /**
   * A float weight whose values {@code source} produces at {@link #write}, streamed to the external
   * data file (so {@code write} must be given a threshold below its size).
   */
  public OnnxGraphWriter generated(String name, FloatSource source, long... dims) {
    long count = count(dims);
    initializers.add(new Initializer(name, FLOAT, dims, null, out -> writeFloats(source, count, out), count * 4));
    return this;
  }

  /** As {@link #generated(String, FloatSource, long...)}, for a uint8 weight. */
  public OnnxGraphWriter generatedBytes(String name, ByteSource source, long... dims) {
    long count = count(dims);
    initializers.add(new Initializer(name, UINT8, dims, null, out -> writeBytes(source, count, out), count));
    return this;
  }

  private static long count(long... dims) {
    long count = 1;
    for (long dim : dims) {
      count *= dim;
    }
    return count;
  }

  /** An int64 constant. */
  public OnnxGraphWriter longs(String name, long[] values, long... dims) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asLongBuffer().put(values);
    initializers.add(new Initializer(name, INT64, dims, buffer.array(), null, buffer.capacity()));
    return this;
  }

  /**
   * A node; {@code attributes} alternate attribute names and values: an integer, a {@code long[]}
   * (ints) or a {@code float}.
   */
  public OnnxGraphWriter node(String opType, List<String> in, List<String> out, Object... attributes) {
    return node("", opType, in, out, attributes);
  }

  /** A node of ONNX Runtime's contrib operators (domain {@code com.microsoft}), such as MatMulNBits. */
  public OnnxGraphWriter contribNode(String opType, List<String> in, List<String> out, Object... attributes) {
    contribOps = true;
    return node("com.microsoft", opType, in, out, attributes);
  }

  private OnnxGraphWriter node(String domain, String opType, List<String> in, List<String> out, Object... attributes) {
    nodes.add(OnnxProto.node(opType + "_" + nodes.size(), domain, opType, in, out, attributes));
    return this;
  }

  /**
   * Writes the model. Weights of at least {@code externalThreshold} bytes go to {@code graph}'s
   * sibling {@code <name>_data}, as the EmbeddingGemma export does with {@code model.onnx_data}.
   *
   * @param externalThreshold bytes from which a weight is stored externally; {@link Long#MAX_VALUE}
   *     keeps every weight inside the graph file
   */
  public void write(Path graph, long externalThreshold) {
    try {
      Files.createDirectories(graph.toAbsolutePath().getParent());
      String dataName = graph.getFileName() + "_data";
      ProtoMessage graphProto = new ProtoMessage();
      nodes.forEach(node -> graphProto.bytesField(1, node));
      graphProto.string(2, "embedding_gemma_shaped");
      try (OutputStream data = externalThreshold == Long.MAX_VALUE ? null : new BufferedOutputStream(Files.newOutputStream(graph.resolveSibling(dataName)), 1 << 20)) {
        long offset = 0;
        for (Initializer init : initializers) {
          if (init.generator != null && (data == null || init.byteLength() < externalThreshold)) {
            throw new IllegalArgumentException("generated weight [" + init.name + "] must be stored externally");
          }
          if (data != null && init.byteLength() >= externalThreshold) {
            if (init.generator != null) {
              init.generator.writeTo(data);
            } else {
              data.write(init.raw);
            }
            graphProto.bytesField(5, OnnxProto.externalTensor(init.name, init.dataType, init.dims, dataName, offset, init.byteLength()));
            offset += init.byteLength();
          } else {
            graphProto.bytesField(5, OnnxProto.inlineTensor(init.name, init.dataType, init.dims, init.raw));
          }
        }
      }
      inputs.forEach(input -> graphProto.bytesField(11, input));
      outputs.forEach(output -> graphProto.bytesField(12, output));
      ProtoMessage model = new ProtoMessage()
          .int64(1, 8)
          .string(2, "embedding-gemma tests")
          .message(7, graphProto)
          .message(8, new ProtoMessage().string(1, "").int64(2, 17));
      if (contribOps) {
        model.message(8, new ProtoMessage().string(1, "com.microsoft").int64(2, 1));
      }
      Files.write(graph, model.bytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeFloats(FloatSource source, long count, OutputStream data) throws IOException {
    float[] chunk = new float[1 << 16];
    ByteBuffer bytes = ByteBuffer.allocate(chunk.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (long offset = 0; offset < count; offset += chunk.length) {
      int length = (int) Math.min(chunk.length, count - offset);
      float[] values = length == chunk.length ? chunk : new float[length];
      source.fill(offset, values);
      bytes.clear();
      bytes.asFloatBuffer().put(values);
      data.write(bytes.array(), 0, length * 4);
    }
  }

  private static void writeBytes(ByteSource source, long count, OutputStream data) throws IOException {
    byte[] chunk = new byte[1 << 18];
    for (long offset = 0; offset < count; offset += chunk.length) {
      int length = (int) Math.min(chunk.length, count - offset);
      byte[] values = length == chunk.length ? chunk : new byte[length];
      source.fill(offset, values);
      data.write(values, 0, length);
    }
  }
}
