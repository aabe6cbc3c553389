package org.embeddinggemma.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A protobuf message built field by field, in the order the fields are added: the few wire types
 * {@code onnx.proto} needs (varint, 32-bit, length-delimited), written by hand so that the module
 * needs no protobuf runtime.
 */
final class ProtoMessage {
  private static final int VARINT = 0;
  private static final int LENGTH_DELIMITED = 2;
  private static final int FIXED32 = 5;

  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

  ProtoMessage int64(int field, long value) {
    tag(field, VARINT);
    varint(value);
    return this;
  }

  ProtoMessage float32(int field, float value) {
    tag(field, FIXED32);
    int bits = Float.floatToRawIntBits(value);
    for (int shift = 0; shift < 32; shift += 8) {
      buffer.write(bits >>> shift);
    }
    return this;
  }

  ProtoMessage string(int field, String value) {
    return bytesField(field, value.getBytes(StandardCharsets.UTF_8));
  }

  ProtoMessage bytesField(int field, byte[] value) {
    tag(field, LENGTH_DELIMITED);
    varint(value.length);
    buffer.writeBytes(value);
    return this;
  }

  /** Bytes already encoded as fields (a tag and its value), copied as they are. */
  ProtoMessage raw(byte[] fields) {
    buffer.writeBytes(fields);
    return this;
  }

  ProtoMessage message(int field, ProtoMessage value) {
    return bytesField(field, value.bytes());
  }

  byte[] bytes() {
    return buffer.toByteArray();
  }

  private void tag(int field, int wireType) {
    varint((long) field << 3 | wireType);
  }

  /** Base-128, least significant group first; a negative value takes ten bytes, as int64 does on the wire. */
  private void varint(long value) {
    long rest = value;
    while ((rest & ~0x7FL) != 0) {
      buffer.write((int) ((rest & 0x7F) | 0x80));
      rest >>>= 7;
    }
    buffer.write((int) rest);
  }
}
