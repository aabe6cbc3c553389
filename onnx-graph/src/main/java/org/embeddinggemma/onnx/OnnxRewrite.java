package org.embeddinggemma.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model being rewritten from an {@link OnnxModel}: nodes replaced or added, initializers
 * replaced, added or dropped, outputs and metadata added. {@link #write} writes a new graph file and
 * its own external data file; values that did not change are copied from the source's files.
 */
public final class OnnxRewrite {

  /** Initializers from this many bytes on are stored in the external data file, as the exports do. */
  public static final long EXTERNAL_FROM_BYTES = 1024;

  private final OnnxModel source;
  private final List<OnnxModel.Node> nodes;
  private final Map<String, Object> initializers = new LinkedHashMap<>();
  private final List<byte[]> outputs;
  private final Map<String, Long> opsets;
  private final Map<String, String> metadata;

  private record NewTensor(String name, int dataType, long[] dims, byte[] values) {}

  OnnxRewrite(OnnxModel source) {
    this.source = source;
    this.nodes = new ArrayList<>(source.nodes());
    source.initializers().forEach(initializers::put);
    this.outputs = new ArrayList<>(source.outputs());
    this.opsets = new LinkedHashMap<>(source.opsets());
    this.metadata = new LinkedHashMap<>(source.metadata());
  }

  /** The nodes, in order; the list can be changed in place. */
  public List<OnnxModel.Node> nodes() {
    return nodes;
  }

  /** Adds or replaces an initializer with {@code values} (little-endian bytes). */
  public OnnxRewrite initializer(String name, int dataType, long[] dims, byte[] values) {
    initializers.put(name, new NewTensor(name, dataType, dims.clone(), values));
    return this;
  }

  /** A float constant. */
  public OnnxRewrite floats(String name, long[] dims, float... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(values);
    return initializer(name, OnnxModel.FLOAT, dims, buffer.array());
  }

  /** An int64 constant. */
  public OnnxRewrite longs(String name, long[] dims, long... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buffer.asLongBuffer().put(values);
    return initializer(name, OnnxModel.INT64, dims, buffer.array());
  }

  /** Drops an initializer that no node uses any more. */
  public OnnxRewrite dropInitializer(String name) {
    initializers.remove(name);
    return this;
  }

  /** Adds a graph output of element type {@code elementType} and unknown shape. */
  public OnnxRewrite output(String name, int elementType) {
    outputs.add(OnnxProto.valueInfo(name, elementType));
    return this;
  }

  /** Imports {@code domain} at {@code version} unless the model already imports it. */
  public OnnxRewrite opset(String domain, long version) {
    opsets.putIfAbsent(domain, version);
    return this;
  }

  /** Sets a {@code metadata_props} entry. */
  public OnnxRewrite metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /**
   * Writes the model to {@code graph}, and its initializers of {@value #EXTERNAL_FROM_BYTES} bytes or
   * more to {@code graph}'s sibling {@code <name>_data}. Both are written under temporary names and
   * moved into place, data first, so that a reader never sees a half-written graph.
   *
   * @throws UncheckedIOException if a file cannot be read or written
   */
  public void write(Path graph) {
    String dataName = graph.getFileName() + "_data";
    Path data = graph.resolveSibling(dataName);
    Path partialData = graph.resolveSibling(dataName + ".partial");
    Path partialGraph = graph.resolveSibling(graph.getFileName() + ".partial");
    try {
      List<byte[]> tensors = new ArrayList<>();
      try (FileChannel out = FileChannel.open(partialData, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        for (Object initializer : initializers.values()) {
          tensors.add(write(initializer, out, dataName));
        }
      }
      Files.write(partialGraph, modelBytes(tensors));
      Files.move(partialData, data, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.move(partialGraph, graph, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write ONNX model [" + graph + "]", e);
    } finally {
      try {
        Files.deleteIfExists(partialData);
        Files.deleteIfExists(partialGraph);
      } catch (IOException ignored) {
        // Left behind only if the disk failed; the next write replaces them.
      }
    }
  }

  /**
   * Writes only the graph file, beside the source model: initializers that did not change keep
   * pointing into the source's external data files, new ones are stored inside the graph. For a
   * short-lived variant of a model (more outputs, say) without copying its weights.
   *
   * @throws IllegalArgumentException if {@code graph} is not in the source model's directory
   * @throws UncheckedIOException if it cannot be written
   */
  public void writeBesideSource(Path graph) {
    Path directory = source.file().toAbsolutePath().getParent();
    if (!graph.toAbsolutePath().getParent().equals(directory)) {
      throw new IllegalArgumentException("[" + graph + "] must be in the source model's directory [" + directory + "]");
    }
    List<byte[]> tensors = new ArrayList<>();
    for (Object initializer : initializers.values()) {
      tensors.add(initializer instanceof NewTensor tensor
          ? OnnxProto.inlineTensor(tensor.name(), tensor.dataType(), tensor.dims(), tensor.values())
          : ((OnnxModel.Tensor) initializer).encoded());
    }
    try {
      Files.write(graph, modelBytes(tensors));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write ONNX model [" + graph + "]", e);
    }
  }

  private byte[] modelBytes(List<byte[]> tensors) {
    ProtoMessage graphProto = new ProtoMessage();
    nodes.forEach(node -> graphProto.bytesField(1, node.encoded()));
    source.graphFields().forEach(graphProto::raw);
    tensors.forEach(tensor -> graphProto.bytesField(5, tensor));
    outputs.forEach(output -> graphProto.bytesField(12, output));
    ProtoMessage model = new ProtoMessage();
    source.modelFields().forEach(model::raw);
    model.message(7, graphProto);
    opsets.forEach((domain, version) -> model.message(8, new ProtoMessage().string(1, domain).int64(2, version)));
    metadata.forEach((key, value) -> model.message(14, new ProtoMessage().string(1, key).string(2, value)));
    return model.bytes();
  }

  private static byte[] write(Object initializer, FileChannel out, String dataName) throws IOException {
    if (initializer instanceof NewTensor tensor) {
      if (tensor.values().length < EXTERNAL_FROM_BYTES) {
        return OnnxProto.inlineTensor(tensor.name(), tensor.dataType(), tensor.dims(), tensor.values());
      }
      long offset = out.position();
      ByteBuffer buffer = ByteBuffer.wrap(tensor.values());
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      return OnnxProto.externalTensor(tensor.name(), tensor.dataType(), tensor.dims(), dataName, offset, tensor.values().length);
    }
    OnnxModel.Tensor tensor = (OnnxModel.Tensor) initializer;
    if (!tensor.readable()) {
      return tensor.encoded();
    }
    if (tensor.byteLength() < EXTERNAL_FROM_BYTES) {
      byte[] values = new byte[(int) tensor.byteLength()];
      tensor.read().get(values);
      return OnnxProto.inlineTensor(tensor.name(), tensor.dataType(), tensor.dims(), values);
    }
    long offset = out.position();
    tensor.copyTo(out);
    return OnnxProto.externalTensor(tensor.name(), tensor.dataType(), tensor.dims(), dataName, offset, tensor.byteLength());
  }
}
