package org.embeddinggemma.testing;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
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
 * Writes small ONNX graphs (the {@code onnx.proto} ModelProto wire format) with protobuf-java, so
 * that tests can build models shaped like the EmbeddingGemma export without downloading one.
 *
 * <p>Field numbers are those of {@code onnx/onnx.proto} (IR version 8, opset 17).
 */
public final class OnnxGraphWriter {

  /** ONNX TensorProto.DataType values. */
  public static final int FLOAT = 1;
  public static final int INT64 = 7;
  public static final int FLOAT16 = 10;

  private final List<byte[]> nodes = new ArrayList<>();
  private final List<Initializer> initializers = new ArrayList<>();
  private final List<byte[]> inputs = new ArrayList<>();
  private final List<byte[]> outputs = new ArrayList<>();

  private record Initializer(String name, int dataType, long[] dims, byte[] raw) {}

  /** A graph input; each dim is a Long (fixed) or a String (symbolic). */
  public OnnxGraphWriter input(String name, int elementType, Object... dims) {
    inputs.add(valueInfo(name, elementType, dims));
    return this;
  }

  /** A graph output; each dim is a Long (fixed) or a String (symbolic). */
  public OnnxGraphWriter output(String name, int elementType, Object... dims) {
    outputs.add(valueInfo(name, elementType, dims));
    return this;
  }

  /** A float weight. */
  public OnnxGraphWriter floats(String name, float[] values, long... dims) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(values);
    initializers.add(new Initializer(name, FLOAT, dims, buffer.array()));
    return this;
  }

  /** An int64 constant. */
  public OnnxGraphWriter longs(String name, long[] values, long... dims) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asLongBuffer().put(values);
    initializers.add(new Initializer(name, INT64, dims, buffer.array()));
    return this;
  }

  /** A node; {@code intAttributes} alternate attribute names and long values. */
  public OnnxGraphWriter node(String opType, List<String> in, List<String> out, Object... intAttributes) {
    Message node = new Message();
    in.forEach(name -> node.string(1, name));
    out.forEach(name -> node.string(2, name));
    node.string(3, opType + "_" + nodes.size());
    node.string(4, opType);
    for (int i = 0; i < intAttributes.length; i += 2) {
      node.message(5, new Message().string(1, (String) intAttributes[i]).int64(3, ((Number) intAttributes[i + 1]).longValue()).int64(20, 2));
    }
    nodes.add(node.bytes());
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
      Message graphProto = new Message();
      nodes.forEach(node -> graphProto.bytesField(1, node));
      graphProto.string(2, "embedding_gemma_shaped");
      try (OutputStream data = externalThreshold == Long.MAX_VALUE ? null : Files.newOutputStream(graph.resolveSibling(dataName))) {
        long offset = 0;
        for (Initializer init : initializers) {
          Message tensor = new Message();
          for (long dim : init.dims) {
            tensor.int64(1, dim);
          }
          tensor.int64(2, init.dataType);
          tensor.string(8, init.name);
          if (data != null && init.raw.length >= externalThreshold) {
            data.write(init.raw);
            tensor.message(13, new Message().string(1, "location").string(2, dataName));
            tensor.message(13, new Message().string(1, "offset").string(2, Long.toString(offset)));
            tensor.message(13, new Message().string(1, "length").string(2, Long.toString(init.raw.length)));
            tensor.int64(14, 1);
            offset += init.raw.length;
          } else {
            tensor.bytesField(9, init.raw);
          }
          graphProto.message(5, tensor);
        }
      }
      inputs.forEach(input -> graphProto.bytesField(11, input));
      outputs.forEach(output -> graphProto.bytesField(12, output));
      Message model = new Message()
          .int64(1, 8)
          .string(2, "embedding-gemma tests")
          .message(7, graphProto)
          .message(8, new Message().string(1, "").int64(2, 17));
      Files.write(graph, model.bytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] valueInfo(String name, int elementType, Object... dims) {
    Message shape = new Message();
    for (Object dim : dims) {
      Message dimension = new Message();
      if (dim instanceof String param) {
        dimension.string(2, param);
      } else {
        dimension.int64(1, ((Number) dim).longValue());
      }
      shape.message(1, dimension);
    }
    Message tensorType = new Message().int64(1, elementType).message(2, shape);
    return new Message().string(1, name).message(2, new Message().message(1, tensorType)).bytes();
  }

  /** A protobuf message built field by field. */
  private static final class Message {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final CodedOutputStream out = CodedOutputStream.newInstance(buffer);

    Message int64(int field, long value) {
      try {
        out.writeInt64(field, value);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Message string(int field, String value) {
      try {
        out.writeString(field, value);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Message bytesField(int field, byte[] value) {
      try {
        out.writeByteArray(field, value);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Message message(int field, Message value) {
      return bytesField(field, value.bytes());
    }

    byte[] bytes() {
      try {
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return buffer.toByteArray();
    }
  }
}
