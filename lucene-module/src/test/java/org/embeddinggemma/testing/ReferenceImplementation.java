package org.embeddinggemma.testing;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code src/test/reference/embed.mjs}: tokenizers.js and onnxruntime-node, an implementation
 * independent of the engine's DJL tokenizer, Java pooling and Java normalisation.
 */
public final class ReferenceImplementation {

  /** What the reference computed for one text. */
  public record Result(long[] ids, boolean truncated, float[] vector) {}

  private ReferenceImplementation() {}

  /**
   * @param graph the ONNX graph, or null to tokenise only
   * @param pooling "mean" or "sentence_embedding"
   * @param dims Matryoshka dims, or null for all
   */
  public static List<Result> run(
      Path tokenizer, Path tokenizerConfig, Path graph, String pooling, int maxTokens, Integer dims, List<String> texts)
      throws IOException, InterruptedException {
    Map<String, Object> request = new LinkedHashMap<>();
    request.put("tokenizer", tokenizer.toString());
    request.put("tokenizer_config", tokenizerConfig == null ? null : tokenizerConfig.toString());
    request.put("graph", graph == null ? null : graph.toString());
    request.put("pooling", pooling);
    request.put("max_tokens", maxTokens);
    request.put("dims", dims);
    request.put("texts", texts);
    Path requestFile = Files.createTempFile(TestModels.buildDirectory(), "reference-request", ".json");
    Path responseFile = requestFile.resolveSibling(requestFile.getFileName() + ".out");
    Files.writeString(requestFile, new Gson().newBuilder().serializeNulls().create().toJson(request));
    Process process =
        new ProcessBuilder("node", "embed.mjs", requestFile.toString())
            .directory(TestModels.referenceDirectory().toFile())
            .redirectOutput(responseFile.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("reference implementation failed for " + requestFile);
    }
    JsonObject response = JsonParser.parseString(Files.readString(responseFile, StandardCharsets.UTF_8)).getAsJsonObject();
    Files.delete(requestFile);
    Files.delete(responseFile);
    List<Result> results = new ArrayList<>();
    for (JsonElement element : response.getAsJsonArray("results")) {
      JsonObject result = element.getAsJsonObject();
      JsonArray ids = result.getAsJsonArray("ids");
      long[] idArray = new long[ids.size()];
      for (int i = 0; i < idArray.length; i++) {
        idArray[i] = ids.get(i).getAsLong();
      }
      float[] vector = null;
      if (result.has("vector")) {
        JsonArray values = result.getAsJsonArray("vector");
        vector = new float[values.size()];
        for (int i = 0; i < vector.length; i++) {
          vector[i] = values.get(i).getAsFloat();
        }
      }
      results.add(new Result(idArray, result.get("truncated").getAsBoolean(), vector));
    }
    return results;
  }

  /** Cosine similarity in double precision. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " and " + b.length);
    }
    double dot = 0;
    double normA = 0;
    double normB = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      normA += (double) a[i] * a[i];
      normB += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(normA * normB);
  }
}
