package org.embeddinggemma.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Splits a protobuf message into its fields, as {@link ProtoMessage} writes them. */
final class ProtoReader {

  private final byte[] message;
  private int position;

  private ProtoReader(byte[] message) {
    this.message = message;
  }

  /**
   * One field of a message.
   *
   * @param number its field number
   * @param scalar its value for varint and fixed-width wire types (fixed32 and fixed64 as raw bits)
   * @param value its bytes for the length-delimited wire type, else null
   * @param encoded the field as read, tag included
   */
  record Field(int number, long scalar, byte[] value, byte[] encoded) {
    String string() {
      return new String(value, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /**
   * The fields of {@code message}, in order.
   *
   * @throws IllegalArgumentException if it is not a well-formed message
   */
  static List<Field> fields(byte[] message) {
    ProtoReader reader = new ProtoReader(message);
    List<Field> fields = new ArrayList<>();
    while (reader.position < message.length) {
      int start = reader.position;
      long tag = reader.varint();
      int number = (int) (tag >>> 3);
      long scalar = 0;
      byte[] value = null;
      switch ((int) (tag & 7)) {
        case 0 -> scalar = reader.varint();
        case 1 -> scalar = reader.littleEndian(8);
        case 2 -> {
          long length = reader.varint();
          if (length < 0 || length > message.length - reader.position) {
            throw new IllegalArgumentException("field " + number + " claims " + length + " bytes, " + (message.length - reader.position) + " are left");
          }
          value = Arrays.copyOfRange(message, reader.position, reader.position + (int) length);
          reader.position += (int) length;
        }
        case 5 -> scalar = reader.littleEndian(4);
        default -> throw new IllegalArgumentException("unsupported wire type " + (tag & 7) + " at byte " + start);
      }
      fields.add(new Field(number, scalar, value, Arrays.copyOfRange(message, start, reader.position)));
    }
    return fields;
  }

  /** The varints packed in a length-delimited field. */
  static long[] packedVarints(byte[] value) {
    ProtoReader reader = new ProtoReader(value);
    List<Long> values = new ArrayList<>();
    while (reader.position < value.length) {
      values.add(reader.varint());
    }
    return values.stream().mapToLong(Long::longValue).toArray();
  }

  private long varint() {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position >= message.length) {
        throw new IllegalArgumentException("message ends inside a varint");
      }
      byte b = message[position++];
      value |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw new IllegalArgumentException("varint longer than 10 bytes at byte " + position);
  }

  private long littleEndian(int bytes) {
    if (position + bytes > message.length) {
      throw new IllegalArgumentException("message ends inside a " + bytes * 8 + "-bit value");
    }
    long value = 0;
    for (int i = 0; i < bytes; i++) {
      value |= (long) (message[position++] & 0xFF) << (8 * i);
    }
    return value;
  }
}
