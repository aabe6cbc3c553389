package org.embeddinggemma.integration;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/** Talks REST to a node: JSON in and out, NDJSON for {@code _bulk}, basic authentication when asked. */
final class RestClient {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /**
   * Sends one request and reads the whole answer.
   *
   * @param credentials {@code user:password}, or null for none
   * @param body JSON, NDJSON for {@code _bulk}, or null for none
   */
  ElasticsearchCluster.Response send(String credentials, URI uri, String method, String body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMinutes(3))
            .header("Content-Type", uri.getPath().contains("_bulk") ? "application/x-ndjson" : "application/json")
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (credentials != null) {
      request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
    }
    try {
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      String text = response.body();
      return new ElasticsearchCluster.Response(response.statusCode(), text.isBlank() ? new JsonObject() : JsonParser.parseString(text));
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + uri.getPath() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
