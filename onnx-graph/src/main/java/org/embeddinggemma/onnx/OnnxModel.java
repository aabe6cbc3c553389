package org.embeddinggemma.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model file read for rewriting: its nodes and initializers are parsed, everything else is
 * kept as the bytes it was read as. Initializer values stay where they are (inside the graph file
 * or in its external data files) until {@link Tensor#read()} or a {@link OnnxRewrite} copies them.
 *
 * <p>Field numbers are those of {@code onnx/onnx.proto}.
 */
public final class OnnxModel {

  /** TensorProto.DataType FLOAT. */
  public static final int FLOAT = 1;
  /** TensorProto.DataType UINT8. */
  public static final int UINT8 = 2;
  /** TensorProto.DataType INT8. */
  public static final int INT8 = 3;
  /** TensorProto.DataType INT64. */
  public static final int INT64 = 7;
  /** TensorProto.DataType FLOAT16. */
  public static final int FLOAT16 = 10;

  private static final int MODEL_GRAPH = 7;
  private static final int MODEL_OPSET_IMPORT = 8;
  private static final int MODEL_METADATA = 14;
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int GRAPH_OUTPUT = 12;

  private final Path file;
  private final List<byte[]> modelFields;
  private final List<byte[]> graphFields;
  private final List<Node> nodes;
  private final Map<String, Tensor> initializers;
  private final List<byte[]> outputs;
  private final Map<String, Long> opsets;
  private final Map<String, String> metadata;

  private OnnxModel(
      Path file, List<byte[]> modelFields, List<byte[]> graphFields, List<Node> nodes, Map<String, Tensor> initializers,
      List<byte[]> outputs, Map<String, Long> opsets, Map<String, String> metadata) {
    this.file = file;
    this.modelFields = modelFields;
    this.graphFields = graphFields;
    this.nodes = nodes;
    this.initializers = initializers;
    this.outputs = outputs;
    this.opsets = opsets;
    this.metadata = metadata;
  }

  /**
   * Reads a model file; external weights are located but not read.
   *
   * @throws IllegalArgumentException if the file is not an ONNX model
   * @throws UncheckedIOException if it cannot be read
   */
  public static OnnxModel read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read ONNX model [" + file + "]", e);
    }
    try {
      List<byte[]> modelFields = new ArrayList<>();
      List<byte[]> graphFields = new ArrayList<>();
      List<Node> nodes = new ArrayList<>();
      Map<String, Tensor> initializers = new LinkedHashMap<>();
      List<byte[]> outputs = new ArrayList<>();
      Map<String, Long> opsets = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      byte[] graph = null;
      for (ProtoReader.Field field : ProtoReader.fields(bytes)) {
        switch (field.number()) {
          case MODEL_GRAPH -> graph = field.value();
          case MODEL_OPSET_IMPORT -> {
            String domain = "";
            long version = 0;
            for (ProtoReader.Field opset : ProtoReader.fields(field.value())) {
              if (opset.number() == 1) {
                domain = opset.string();
              } else if (opset.number() == 2) {
                version = opset.scalar();
              }
            }
            opsets.put(domain.equals("ai.onnx") ? "" : domain, version);
          }
          case MODEL_METADATA -> putEntry(field.value(), metadata);
          default -> modelFields.add(field.encoded());
        }
      }
      if (graph == null) {
        throw new IllegalArgumentException("it has no graph");
      }
      Path directory = file.toAbsolutePath().getParent();
      for (ProtoReader.Field field : ProtoReader.fields(graph)) {
        switch (field.number()) {
          case GRAPH_NODE -> nodes.add(Node.parse(field.value()));
          case GRAPH_INITIALIZER -> {
            Tensor tensor = Tensor.parse(field.value(), directory);
            initializers.put(tensor.name(), tensor);
          }
          case GRAPH_OUTPUT -> outputs.add(field.value());
          default -> graphFields.add(field.encoded());
        }
      }
      return new OnnxModel(
          file, modelFields, graphFields, Collections.unmodifiableList(nodes), Collections.unmodifiableMap(initializers),
          outputs, Collections.unmodifiableMap(opsets), Collections.unmodifiableMap(metadata));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("[" + file + "] is not an ONNX model: " + e.getMessage(), e);
    }
  }

  /** A StringStringEntryProto (metadata, external data locations) into {@code entries}. */
  private static void putEntry(byte[] entry, Map<String, String> entries) {
    String key = "";
    String value = "";
    for (ProtoReader.Field field : ProtoReader.fields(entry)) {
      if (field.number() == 1) {
        key = field.string();
      } else if (field.number() == 2) {
        value = field.string();
      }
    }
    entries.put(key, value);
  }

  /** The file this model was read from. */
  public Path file() {
    return file;
  }

  /** The graph's nodes, in order. */
  public List<Node> nodes() {
    return nodes;
  }

  /** The graph's initializers by name, in order. */
  public Map<String, Tensor> initializers() {
    return initializers;
  }

  /** The opset version the model imports for {@code domain} ("" for the default domain), or 0. */
  public long opset(String domain) {
    return opsets.getOrDefault(domain, 0L);
  }

  /** The model's {@code metadata_props}. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** A rewrite of this model, starting from its nodes and initializers as they are. */
  public OnnxRewrite rewrite() {
    return new OnnxRewrite(this);
  }

  List<byte[]> modelFields() {
    return modelFields;
  }

  List<byte[]> graphFields() {
    return graphFields;
  }

  List<byte[]> outputs() {
    return outputs;
  }

  Map<String, Long> opsets() {
    return opsets;
  }

  /**
   * One node of the graph.
   *
   * @param name the node's name
   * @param domain its operator domain, "" for the default one
   * @param opType its operator
   * @param inputs its input names ("" for an omitted optional input)
   * @param outputs its output names
   * @param encoded the NodeProto, attributes included
   */
  public record Node(String name, String domain, String opType, List<String> inputs, List<String> outputs, byte[] encoded) {

    /**
     * A new node; {@code attributes} alternate attribute names and values: an integer, a {@code
     * long[]} (ints) or a {@code float}.
     */
    public static Node of(String name, String domain, String opType, List<String> inputs, List<String> outputs, Object... attributes) {
      return new Node(name, domain, opType, List.copyOf(inputs), List.copyOf(outputs),
          OnnxProto.node(name, domain, opType, inputs, outputs, attributes));
    }

    static Node parse(byte[] encoded) {
      List<String> inputs = new ArrayList<>();
      List<String> outputs = new ArrayList<>();
      String name = "";
      String opType = "";
      String domain = "";
      for (ProtoReader.Field field : ProtoReader.fields(encoded)) {
        switch (field.number()) {
          case 1 -> inputs.add(field.string());
          case 2 -> outputs.add(field.string());
          case 3 -> name = field.string();
          case 4 -> opType = field.string();
          case 7 -> domain = field.string().equals("ai.onnx") ? "" : field.string();
          default -> {}
        }
      }
      return new Node(name, domain, opType, List.copyOf(inputs), List.copyOf(outputs), encoded);
    }
  }

  /**
   * An initializer: its name, type and shape, and where its values are.
   */
  public static final class Tensor {
    private final String name;
    private final int dataType;
    private final long[] dims;
    private final byte[] inline;
    private final Path location;
    private final long offset;
    private final long length;
    private final byte[] encoded;

    private Tensor(String name, int dataType, long[] dims, byte[] inline, Path location, long offset, long length, byte[] encoded) {
      this.name = name;
      this.dataType = dataType;
      this.dims = dims;
      this.inline = inline;
      this.location = location;
      this.offset = offset;
      this.length = length;
      this.encoded = encoded;
    }

    static Tensor parse(byte[] encoded, Path directory) throws IOException {
      List<Long> dims = new ArrayList<>();
      String name = "";
      int dataType = 0;
      byte[] raw = null;
      ByteBuffer typed = null;
      Map<String, String> external = new LinkedHashMap<>();
      boolean typedOther = false;
      for (ProtoReader.Field field : ProtoReader.fields(encoded)) {
        switch (field.number()) {
          case 1 -> {
            if (field.value() != null) {
              for (long dim : ProtoReader.packedVarints(field.value())) {
                dims.add(dim);
              }
            } else {
              dims.add(field.scalar());
            }
          }
          case 2 -> dataType = (int) field.scalar();
          case 8 -> name = field.string();
          case 9 -> raw = field.value();
          case 4 -> typed = appendFloats(typed, field);
          case 7 -> typed = appendLongs(typed, field);
          case 5, 6, 10, 11 -> typedOther = true;
          case 13 -> putEntry(field.value(), external);
          default -> {}
        }
      }
      long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
      if (!external.isEmpty()) {
        String location = external.get("location");
        if (location == null) {
          throw new IllegalArgumentException("initializer [" + name + "] is stored externally without a location");
        }
        Path path = directory.resolve(location);
        long offset = Long.parseLong(external.getOrDefault("offset", "0"));
        long length = external.containsKey("length") ? Long.parseLong(external.get("length")) : Files.size(path) - offset;
        return new Tensor(name, dataType, shape, null, path, offset, length, encoded);
      }
      if (typedOther) {
        return new Tensor(name, dataType, shape, null, null, 0, -1, encoded);
      }
      byte[] values = raw != null ? raw : typed != null ? Arrays.copyOf(typed.array(), typed.position()) : new byte[0];
      return new Tensor(name, dataType, shape, values, null, 0, values.length, encoded);
    }

    private static ByteBuffer appendFloats(ByteBuffer into, ProtoReader.Field field) {
      ByteBuffer buffer = grow(into, field.value() != null ? field.value().length : 4);
      if (field.value() != null) {
        // Packed floats are little-endian 32-bit values, as raw data is.
        buffer.put(field.value());
      } else {
        buffer.putFloat(Float.intBitsToFloat((int) field.scalar()));
      }
      return buffer;
    }

    private static ByteBuffer appendLongs(ByteBuffer into, ProtoReader.Field field) {
      ByteBuffer buffer = grow(into, field.value() != null ? field.value().length * 8 : 8);
      if (field.value() != null) {
        for (long value : ProtoReader.packedVarints(field.value())) {
          buffer.putLong(value);
        }
      } else {
        buffer.putLong(field.scalar());
      }
      return buffer;
    }

    private static ByteBuffer grow(ByteBuffer buffer, int more) {
      if (buffer == null) {
        return ByteBuffer.allocate(Math.max(64, more)).order(ByteOrder.LITTLE_ENDIAN);
      }
      if (buffer.remaining() >= more) {
        return buffer;
      }
      ByteBuffer grown = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + more)).order(ByteOrder.LITTLE_ENDIAN);
      buffer.flip();
      return grown.put(buffer);
    }

    /** The initializer's name. */
    public String name() {
      return name;
    }

    /** Its TensorProto.DataType. */
    public int dataType() {
      return dataType;
    }

    /** Its shape. */
    public long[] dims() {
      return dims.clone();
    }

    /** Whether its values can be read as little-endian bytes ({@link #read()}). */
    public boolean readable() {
      return length >= 0;
    }

    /** The size of its values in bytes, or -1 where they are in typed fields this reader does not decode. */
    public long byteLength() {
      return length;
    }

    /** The external data file holding its values, or null where they are inside the graph file. */
    public Path location() {
      return location;
    }

    /**
     * Its values as little-endian bytes.
     *
     * @throws IllegalStateException if they are in typed fields this reader does not decode
     * @throws UncheckedIOException if the external data cannot be read
     */
    public ByteBuffer read() {
      if (!readable()) {
        throw new IllegalStateException("initializer [" + name + "] keeps its values in typed fields that are not decoded");
      }
      if (inline != null) {
        return ByteBuffer.wrap(inline).order(ByteOrder.LITTLE_ENDIAN);
      }
      if (length > Integer.MAX_VALUE) {
        throw new IllegalStateException("initializer [" + name + "] has " + length + " bytes, more than one buffer holds");
      }
      ByteBuffer buffer = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
      try (FileChannel channel = FileChannel.open(location, StandardOpenOption.READ)) {
        while (buffer.hasRemaining()) {
          if (channel.read(buffer, offset + buffer.position()) < 0) {
            throw new IOException("[" + location + "] ends before the " + length + " bytes of [" + name + "] at " + offset);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read initializer [" + name + "] from [" + location + "]", e);
      }
      return buffer.flip();
    }

    /** Its values as floats. */
    public float[] floats() {
      if (dataType != FLOAT) {
        throw new IllegalStateException("initializer [" + name + "] is of data type " + dataType + ", not float");
      }
      float[] values = new float[(int) (byteLength() / 4)];
      read().asFloatBuffer().get(values);
      return values;
    }

    /** Copies its values to {@code out}; external values are transferred without passing through the heap. */
    void copyTo(FileChannel out) throws IOException {
      if (inline != null) {
        ByteBuffer buffer = ByteBuffer.wrap(inline);
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
        return;
      }
      try (FileChannel channel = FileChannel.open(location, StandardOpenOption.READ)) {
        long done = 0;
        while (done < length) {
          long moved = channel.transferTo(offset + done, length - done, out);
          if (moved <= 0) {
            throw new IOException("[" + location + "] ends before the " + length + " bytes of [" + name + "] at " + offset);
          }
          done += moved;
        }
      }
    }

    /** The TensorProto as read, for initializers whose values are in typed fields. */
    byte[] encoded() {
      return encoded;
    }
  }
}
