package org.embeddinggemma.testing;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The sentences and queries of {@code data/} at the top of the repository. */
public final class Corpus {

  /** One sentence. */
  public record Sentence(String id, String topic, String text) {}

  /** A query and the id of the sentence that answers it. */
  public record Query(String query, String expected) {}

  private Corpus() {}

  /** All sentences, in file order. */
  public static List<Sentence> sentences() {
    return lines("corpus.jsonl").stream()
        .map(json -> new Sentence(json.get("id").getAsString(), json.get("topic").getAsString(), json.get("text").getAsString()))
        .toList();
  }

  /** All queries, in file order. */
  public static List<Query> queries() {
    return lines("queries.jsonl").stream()
        .map(json -> new Query(json.get("query").getAsString(), json.get("expected").getAsString()))
        .toList();
  }

  private static List<JsonObject> lines(String file) {
    Path path = Path.of(System.getProperty("corpus.directory", "../data")).resolve(file);
    try {
      return Files.readAllLines(path).stream()
          .filter(line -> !line.isBlank())
          .map(line -> JsonParser.parseString(line).getAsJsonObject())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
