package org.embeddinggemma.engine;

import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The special tokens of a {@code tokenizer.json}, and the same file with them taken out of its
 * added vocabulary, so that user text which spells one ({@code <bos>}, {@code <pad>}, EmbeddingGemma
 * 2's media placeholder {@code <|image|>}) is tokenised as the characters it is.
 *
 * <p>HuggingFace tokenizers split text on added tokens before anything else, special ones
 * included: a document that quotes {@code <|image|>} would reach EmbeddingGemma 2's graph as an
 * image placeholder with no image, and fail there, taking its batch with it. Special tokens stay
 * in the model's vocabulary and in the post-processor, which adds {@code <bos>} by id, so the
 * sequence around the text is unchanged. The file is rewritten as a stream, not parsed into a
 * tree: Gemma's is 33 MB.
 */
public final class SpecialTokenVocabulary {

  private final String tokenizerJson;
  private final Map<String, Long> ids;

  private SpecialTokenVocabulary(String tokenizerJson, Map<String, Long> ids) {
    this.tokenizerJson = tokenizerJson;
    this.ids = Collections.unmodifiableMap(new LinkedHashMap<>(ids));
  }

  /** The rewritten {@code tokenizer.json}, whose added vocabulary holds no special token. */
  public String tokenizerJson() {
    return tokenizerJson;
  }

  /** Each special token's content and id, in file order. */
  public Map<String, Long> ids() {
    return ids;
  }

  /**
   * Reads a {@code tokenizer.json} and takes its special added tokens out of the added vocabulary.
   *
   * @throws ModelLoadException if the file cannot be read or is not a tokenizer.json
   */
  public static SpecialTokenVocabulary read(Path tokenizerJson) {
    Map<String, Long> ids = new LinkedHashMap<>();
    long size;
    try {
      size = Files.size(tokenizerJson);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read tokenizer [" + tokenizerJson + "]", e);
    }
    StringWriter out = new StringWriter((int) Math.min(Integer.MAX_VALUE - 8, size + 1024));
    try (Reader reader = Files.newBufferedReader(tokenizerJson, StandardCharsets.UTF_8);
        JsonReader in = new JsonReader(reader);
        JsonWriter writer = new JsonWriter(out)) {
      if (in.peek() != JsonToken.BEGIN_OBJECT) {
        throw new ModelLoadException("tokenizer [" + tokenizerJson + "] must hold a JSON object, found " + in.peek());
      }
      in.beginObject();
      writer.beginObject();
      while (in.hasNext()) {
        String name = in.nextName();
        writer.name(name);
        if (name.equals("added_tokens") && in.peek() == JsonToken.BEGIN_ARRAY) {
          copyOrdinaryAddedTokens(in, writer, ids);
        } else {
          copy(in, writer);
        }
      }
      in.endObject();
      writer.endObject();
    } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
      throw new ModelLoadException(
          "cannot read tokenizer [" + tokenizerJson + "]; it must be a HuggingFace tokenizer.json", e);
    }
    return new SpecialTokenVocabulary(out.toString(), ids);
  }

  /** Copies the added tokens that are not special, and notes the special ones. */
  private static void copyOrdinaryAddedTokens(JsonReader in, JsonWriter writer, Map<String, Long> ids) throws IOException {
    in.beginArray();
    writer.beginArray();
    while (in.hasNext()) {
      Map<String, Object> token = new LinkedHashMap<>();
      in.beginObject();
      while (in.hasNext()) {
        String key = in.nextName();
        token.put(key, switch (in.peek()) {
          case BOOLEAN -> in.nextBoolean();
          case NUMBER -> new Literal(in.nextString());
          case STRING -> in.nextString();
          case NULL -> {
            in.nextNull();
            yield null;
          }
          default -> throw new IllegalStateException("added token key [" + key + "] holds " + in.peek());
        });
      }
      in.endObject();
      if (Boolean.TRUE.equals(token.get("special")) && token.get("content") instanceof String content
          && token.get("id") instanceof Literal id) {
        ids.put(content, Long.parseLong(id.text()));
        continue;
      }
      writer.beginObject();
      for (Map.Entry<String, Object> entry : token.entrySet()) {
        writer.name(entry.getKey());
        Object value = entry.getValue();
        if (value == null) {
          writer.nullValue();
        } else if (value instanceof Boolean flag) {
          writer.value(flag);
        } else if (value instanceof Literal number) {
          writer.jsonValue(number.text());
        } else {
          writer.value((String) value);
        }
      }
      writer.endObject();
    }
    in.endArray();
    writer.endArray();
  }

  /** A number as written, so that the copy keeps its exact digits. */
  private record Literal(String text) {}

  private static void copy(JsonReader in, JsonWriter writer) throws IOException {
    int depth = 0;
    do {
      switch (in.peek()) {
        case BEGIN_OBJECT -> {
          in.beginObject();
          writer.beginObject();
          depth++;
        }
        case END_OBJECT -> {
          in.endObject();
          writer.endObject();
          depth--;
        }
        case BEGIN_ARRAY -> {
          in.beginArray();
          writer.beginArray();
          depth++;
        }
        case END_ARRAY -> {
          in.endArray();
          writer.endArray();
          depth--;
        }
        case NAME -> writer.name(in.nextName());
        case STRING -> writer.value(in.nextString());
        case NUMBER -> writer.jsonValue(in.nextString());
        case BOOLEAN -> writer.value(in.nextBoolean());
        case NULL -> {
          in.nextNull();
          writer.nullValue();
        }
        case END_DOCUMENT -> throw new IllegalStateException("the file ends inside a value");
      }
    } while (depth > 0);
  }
}
