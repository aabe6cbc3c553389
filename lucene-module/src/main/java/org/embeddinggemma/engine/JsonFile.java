package org.embeddinggemma.engine;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The JSON files of a model directory, read whole: configurations of a few kilobytes. */
final class JsonFile {

  private JsonFile() {}

  /**
   * Parses a JSON file.
   *
   * @param description what the file is, for the message, e.g. {@code model config [path]}
   * @throws ModelLoadException {@code cannot read <description>} if it cannot be read or parsed
   */
  static JsonElement parse(Path file, String description) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return JsonParser.parseReader(reader);
    } catch (IOException | JsonParseException e) {
      throw new ModelLoadException("cannot read " + description, e);
    }
  }
}
