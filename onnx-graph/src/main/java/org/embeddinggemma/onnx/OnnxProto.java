package org.embeddinggemma.onnx;

import java.util.List;

/**
 * Encoders of the {@code onnx.proto} messages that graphs are built from. Field numbers are those
 * of {@code onnx/onnx.proto}.
 */
final class OnnxProto {

  private OnnxProto() {}

  /**
   * A NodeProto; {@code attributes} alternate attribute names and values: an integer, a {@code
   * long[]} (ints) or a {@code float}.
   */
  static byte[] node(String name, String domain, String opType, List<String> in, List<String> out, Object... attributes) {
    ProtoMessage node = new ProtoMessage();
    in.forEach(input -> node.string(1, input));
    out.forEach(output -> node.string(2, output));
    node.string(3, name);
    node.string(4, opType);
    for (int i = 0; i < attributes.length; i += 2) {
      ProtoMessage attribute = new ProtoMessage().string(1, (String) attributes[i]);
      Object value = attributes[i + 1];
      if (value instanceof long[] ints) {
        for (long v : ints) {
          attribute.int64(8, v);
        }
        attribute.int64(20, 7);
      } else if (value instanceof Float f) {
        attribute.float32(2, f);
        attribute.int64(20, 1);
      } else {
        attribute.int64(3, ((Number) value).longValue()).int64(20, 2);
      }
      node.message(5, attribute);
    }
    if (!domain.isEmpty()) {
      node.string(7, domain);
    }
    return node.bytes();
  }

  /** A ValueInfoProto of a tensor; each dim is a Long (fixed) or a String (symbolic); no dims: unknown shape. */
  static byte[] valueInfo(String name, int elementType, Object... dims) {
    ProtoMessage tensorType = new ProtoMessage().int64(1, elementType);
    if (dims.length > 0) {
      ProtoMessage shape = new ProtoMessage();
      for (Object dim : dims) {
        ProtoMessage dimension = new ProtoMessage();
        if (dim instanceof String param) {
          dimension.string(2, param);
        } else {
          dimension.int64(1, ((Number) dim).longValue());
        }
        shape.message(1, dimension);
      }
      tensorType.message(2, shape);
    }
    return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType)).bytes();
  }

  /** A TensorProto whose bytes are in {@code raw_data}. */
  static byte[] inlineTensor(String name, int dataType, long[] dims, byte[] raw) {
    ProtoMessage tensor = header(name, dataType, dims);
    return tensor.bytesField(9, raw).bytes();
  }

  /** A TensorProto whose bytes are at {@code offset} in {@code location}, relative to the graph file. */
  static byte[] externalTensor(String name, int dataType, long[] dims, String location, long offset, long length) {
    return header(name, dataType, dims)
        .message(13, new ProtoMessage().string(1, "location").string(2, location))
        .message(13, new ProtoMessage().string(1, "offset").string(2, Long.toString(offset)))
        .message(13, new ProtoMessage().string(1, "length").string(2, Long.toString(length)))
        .int64(14, 1)
        .bytes();
  }

  private static ProtoMessage header(String name, int dataType, long[] dims) {
    ProtoMessage tensor = new ProtoMessage();
    for (long dim : dims) {
      tensor.int64(1, dim);
    }
    return tensor.int64(2, dataType).string(8, name);
  }
}
